"""`engage-orders serve` with an invalid automations file: it stops at once with the problems
listed, not with a traceback, and serves nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storage.settings import EngageSettings
from tests.support.server import free_port

COMMAND = Path(sys.executable).with_name("engage-orders")


def test_serve_refuses_an_invalid_automations_file(
    settings: EngageSettings, tmp_path: Path
) -> None:
    path = tmp_path / "automations.yaml"
    path.write_text(
        "automations:\n  ConfirmOrder:\n    channels: [fax]\n"
        "    templates:\n      en-GB: {subject: 'Thanks', body: '{{ order.orderId }'}\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "ENGAGE_HOME": str(settings.resolved_home),
        "ENGAGE_DATABASE_URL": settings.resolved_database_url,
        "ENGAGE_AUTOMATIONS_PATH": str(path),
    }
    result = subprocess.run(
        [str(COMMAND), "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"Invalid automations configuration ({path}):" in result.stderr
    assert (
        "automations.ConfirmOrder.channels.0: unknown channel; known: outbox, smtp, webhook"
        in result.stderr
    )
    assert "automations.ConfirmOrder.templates.en-GB.body: unexpected '}' (line 1)" in result.stderr
