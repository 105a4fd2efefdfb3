"""bench/run.sh --check: the exit status tells whether every target was met."""

from __future__ import annotations

import pytest

from bench.run_all import exit_status, main

MET = ("relay, 100 subscribers", "+0.5 ms p50", "<= 1 ms p50", True)
MISSED = ("GPU busy, 1 backend", "0.797 of direct", ">= 0.98", False)


def test_check_fails_when_a_target_is_missed(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_status([MET, MISSED], check=True) == 1
    assert "MISSED: GPU busy, 1 backend" in capsys.readouterr().out


def test_check_passes_when_every_target_is_met() -> None:
    assert exit_status([MET], check=True) == 0


def test_without_check_a_missed_target_still_exits_zero() -> None:
    assert exit_status([MET, MISSED], check=False) == 0


def test_run_sh_passes_check_through(monkeypatch: pytest.MonkeyPatch) -> None:
    async def missing_everything(quick: bool) -> list[tuple[str, str, str, bool]]:
        return [MISSED]

    monkeypatch.setattr("bench.run_all.run_all", missing_everything)
    assert main(["--check", "--quick"]) == 1
    assert main(["--quick"]) == 0
