"""An emulator of the ComfyUI 0.8.0 HTTP and websocket API, for tests and trying the service.

Start one in-process with `running_emulator(EmulatorConfig(...))`, or as a process with
`python -m comfy.emulator --port 8188`.
"""

from comfy.emulator.app import create_emulator_app
from comfy.emulator.cli import main
from comfy.emulator.config import EmulatorConfig, ModelFiles
from comfy.emulator.faults import ExecutionFault, Faults
from comfy.emulator.server import EmulatorServer, RunningEmulator, running_emulator
from comfy.emulator.state import Emulator

__all__ = [
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "ExecutionFault",
    "Faults",
    "ModelFiles",
    "RunningEmulator",
    "create_emulator_app",
    "main",
    "running_emulator",
]
