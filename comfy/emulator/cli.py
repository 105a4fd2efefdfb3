"""`python -m comfy.emulator`: serve an emulated ComfyUI 0.8.0 for trying the service out."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from pathlib import Path

from comfy.emulator.app import create_emulator_app
from comfy.emulator.config import PREVIEW_METHODS, EmulatorConfig, ModelFiles
from comfy.emulator.server import EmulatorServer

logger = logging.getLogger("comfy.emulator")
LISTENING = "ComfyUI emulator listening on "


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m comfy.emulator",
        description="An EMULATOR of the ComfyUI 0.8.0 HTTP/websocket API (no GPU, no models).",
    )
    parser.add_argument("--listen", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8188, help="0 picks a free port")
    parser.add_argument("--step-seconds", type=float, default=0.5, help="time per sampler step")
    parser.add_argument("--node-seconds", type=float, default=0.0, help="time per other node")
    parser.add_argument(
        "--sleep-steps",
        action="store_true",
        help="steps sleep like a GPU host's CPU: previews rendered small, within the step time",
    )
    parser.add_argument("--preview-method", choices=PREVIEW_METHODS, default="none")
    parser.add_argument("--preview-size", type=int, default=512)
    parser.add_argument("--base-directory", type=Path, help="holds input/, output/, temp/")
    parser.add_argument("--input-dir", type=Path)
    parser.add_argument("--output-dir", type=Path)
    parser.add_argument("--diffusion-model", action="append", help="offered unet file name")
    parser.add_argument("--text-encoder", action="append", help="offered text encoder name")
    parser.add_argument("--vae", action="append", help="offered VAE file name")
    parser.add_argument("--lora", action="append", help="offered LoRA file name")
    parser.add_argument("--corrupt-model", action="append", default=[], help="fails to load")
    parser.add_argument("--log-level", default="INFO")
    return parser


def config_from(args: argparse.Namespace, argv: list[str]) -> EmulatorConfig:
    defaults = ModelFiles()
    models = ModelFiles(
        diffusion_models=tuple(args.diffusion_model or defaults.diffusion_models),
        text_encoders=tuple(args.text_encoder or defaults.text_encoders),
        vae=tuple(args.vae or defaults.vae),
        loras=tuple(args.lora or defaults.loras),
        corrupt=frozenset(args.corrupt_model),
    )
    return EmulatorConfig(
        step_seconds=args.step_seconds,
        node_seconds=args.node_seconds,
        sleep_steps=args.sleep_steps,
        preview_method=args.preview_method,
        preview_size=args.preview_size,
        root_dir=args.base_directory,
        input_dir=args.input_dir,
        output_dir=args.output_dir,
        models=models,
        argv=("main.py", *argv),
        allow_self_kill=True,
    )


def listen_problem(host: str, port: int) -> str | None:
    """Why the emulator cannot listen on host:port (a busy port, an unknown address), in one
    line; None when it can (or when the port is 0, any free one)."""
    if port == 0:
        return None
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return (
            f"cannot listen on {host}:{port}: {reason} (is ComfyUI or another emulator running "
            "there? choose another --port)"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(arguments)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stdout,
        format="%(levelname)s %(name)s: %(message)s",
    )
    problem = listen_problem(args.listen, args.port)
    if problem is not None:
        sys.stderr.write(f"kontext emulator: {problem}\n")
        return 1
    config = config_from(args, arguments)
    logger.warning(
        "This is an EMULATOR of ComfyUI 0.8.0, not ComfyUI: no GPU and no models; images are "
        "deterministic tints of the inputs, %.2fs per sampler step.",
        config.step_seconds,
    )
    asyncio.run(_serve(config, args.listen, args.port))
    return 0


async def _serve(config: EmulatorConfig, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with EmulatorServer(create_emulator_app(config), host, port) as server:
        logger.warning("%s%s (files in %s)", LISTENING, server.url, server.emulator.files.root)
        await stop.wait()
        logger.warning("stopping: websockets end without a close frame, like ComfyUI's")
    logger.warning("ComfyUI emulator stopped")
