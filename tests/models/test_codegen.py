"""The committed models are exactly what the generator makes from the contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nhsa.models import codegen
from nhsa.spec import Contract, contract


def test_generated_models_are_fresh() -> None:
    assert codegen.stale_files() == [], "run `make models` and commit the result"


def test_a_contract_change_makes_the_models_stale(tmp_path: Path) -> None:
    root = tmp_path / "v1"
    shutil.copytree(contract().root, root)
    path = root / "transactions" / "2207.json"
    document = json.loads(path.read_text("utf-8"))
    document["$defs"]["input_data"]["properties"]["psn_no"]["maxLength"] = 40
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    changed = codegen.generate(Contract(root, "v1"))
    assert "max_length=40" in changed["t2207.py"]
    assert changed["t2207.py"] != codegen.generate()["t2207.py"]
