from __future__ import annotations

import re
from pathlib import Path

from graphql_api.settings import settings_markdown

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_readme_settings_table_matches_the_settings_object() -> None:
    table = re.search(r"<!-- settings:begin -->\n(.*)\n<!-- settings:end -->", README, re.S)
    assert table is not None
    assert table.group(1) == settings_markdown()


def test_readme_has_exactly_two_setup_commands() -> None:
    setup = README.split("## Set up", 1)[1].split("##", 1)[0]
    block = re.search(r"```bash\n(.*?)```", setup, re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert [c.split()[0] for c in commands] == ["./scripts/serve", "./scripts/test"]
