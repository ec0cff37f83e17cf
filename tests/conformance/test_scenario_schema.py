"""scenario.schema.json is generated from the action table and cannot drift from what uses it.

The action table is the one definition of every action; these tests hold the schema file, the
Driver protocol, driver-api.yaml, the report schema and the mock's fault model to it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import jsonschema

from nhsa._resources import data_dir
from nhsa.conformance import Driver, default_registry, load_scenario
from nhsa.conformance._actions import ACTIONS, DRIVER_ACTIONS, DriverCall
from nhsa.conformance._scenario_schema import SCHEMA_FILE, render, scenario_schema
from nhsa.conformance._yaml import load_located
from nhsa.conformance.drivers._api import driver_api, request_schema
from nhsa.mock.faults import FaultKind, FaultSpec

SCHEMA_PATH = data_dir("conformance") / SCHEMA_FILE


def test_the_schema_file_is_generated_from_the_table() -> None:
    if os.environ.get("NHSA_UPDATE_EXPECTED"):
        SCHEMA_PATH.write_text(render(), encoding="utf-8")
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), (
        f"{SCHEMA_PATH} is stale: NHSA_UPDATE_EXPECTED=1 .venv/bin/pytest {__file__}"
    )


def test_the_schema_is_valid_json_schema_2020_12() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_each_action_is_a_step_of_the_schema_with_its_parameters() -> None:
    steps = scenario_schema()["$defs"]["step"]
    assert steps["propertyNames"]["enum"] == list(ACTIONS)
    for name, action in ACTIONS.items():
        described = steps["properties"][name]
        assert set(described["properties"]) == {*action.parameters, "as", "timeout"}
        assert described.get("required", []) == list(action.required)


def test_the_table_the_driver_protocol_and_the_driver_api_name_the_same_actions() -> None:
    operations = {
        op["operationId"] for item in driver_api()["paths"].values() for op in item.values()
    }
    assert operations == {"health", "configure", *DRIVER_ACTIONS}
    assert all(callable(getattr(Driver, name, None)) for name in DRIVER_ACTIONS)
    for name in DRIVER_ACTIONS:
        runs = ACTIONS[name].runs
        assert isinstance(runs, DriverCall)
        assert request_schema(name) == runs.request.__name__
        assert dataclasses.is_dataclass(runs.request)


def test_the_report_schema_knows_every_action() -> None:
    report = json.loads((data_dir("conformance") / "report.schema.json").read_text("utf-8"))
    assert set(report["$defs"]["step"]["properties"]["action"]["enum"]) == {"configure", *ACTIONS}


def test_faults_are_the_mocks_own() -> None:
    fault = scenario_schema()["$defs"]["fault"]
    assert fault["properties"]["kind"]["enum"] == [kind.value for kind in FaultKind]
    assert set(fault["properties"]) == (set(FaultSpec.model_fields) - {"psn_no"}) | {"patient"}
    assert fault["required"] == ["kind"]


def test_given_downtime_and_the_schedule_downtime_step_take_the_same_keys() -> None:
    defs = scenario_schema()["$defs"]
    step = defs["step"]["properties"]["schedule_downtime"]["properties"]
    assert set(defs["downtime"]["properties"]) == set(step) - {"as", "timeout"}


def test_every_bundled_scenario_is_valid_for_an_editor_too() -> None:
    """Another validator (python-jsonschema), given the file alone, accepts them too."""
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text("utf-8")))
    files = sorted((data_dir("conformance") / "stages").glob("*/*.yaml"))
    assert files
    for path in files:
        document = load_located(path.read_text(encoding="utf-8"), path, error=ValueError)
        assert list(validator.iter_errors(document.plain())) == [], path


def test_a_step_without_parameters_may_be_left_empty(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    folder.mkdir()
    path = folder / "bare.yaml"
    path.write_text(
        "id: lab/bare\ntitle: bare\nrequirements: [HIS-SES-001]\n"
        "given: {institution: H53010100001, patient: P53010000000001}\n"
        "do:\n  - sign_in:\n  - clear_faults:\nexpect:\n  checks: [sign_in_first]\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path, default_registry())
    assert [(s.name, s.action, dict(s.params)) for s in scenario.steps] == [
        ("sign_in", "sign_in", {}),
        ("clear_faults", "clear_faults", {}),
    ]
