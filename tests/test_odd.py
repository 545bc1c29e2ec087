"""docs/odd.md (the model in the ODD protocol) keeps up with the code: every scenario key (walked
from sim/schema.py's models) and every data file is named in it. The failure message lists exactly
what is missing, so whoever adds a key or a file can describe it there."""
import types
import typing
from importlib import resources
from pathlib import Path

from pydantic import BaseModel

from zcf.sim.schema import ScenarioModel

ODD = Path(__file__).resolve().parents[1] / "docs" / "odd.md"
# list/dict fields whose items are tables: how odd.md writes the key of an item
ITEM = {dict: "NAME."}        # options.NAME.capex_cny_per_unit; buyers.requirements.industry


def _plain(annotation):
    """The type inside Annotated[...] and Optional[...]."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _plain(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _plain(args[0]) if len(args) == 1 else annotation
    return annotation


def _table(annotation):
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def scenario_keys(model: type[BaseModel] = ScenarioModel, prefix: str = "") -> list[str]:
    """Every leaf key of the scenario schema as a dotted path."""
    keys = []
    for name, field in model.model_fields.items():
        ann = _plain(field.annotation)
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if _table(ann):
            keys += scenario_keys(ann, f"{prefix}{name}.")
        elif origin is list and args and _table(_plain(args[0])):
            keys += scenario_keys(_plain(args[0]), f"{prefix}{name}.")
        elif origin is dict and len(args) == 2 and _table(_plain(args[1])):
            keys += scenario_keys(_plain(args[1]), f"{prefix}{name}.{ITEM[dict]}")
        else:
            keys.append(prefix + name)
    return keys


def data_files() -> list[str]:
    folder = resources.files("zcf.sim").joinpath("data")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".csv", ".toml")))


def test_the_walk_finds_nested_and_item_keys():
    keys = scenario_keys()
    assert {"population.firms", "behaviour.logit_beta", "buyers.requirements.penalty_frac",
            "surcharge.tiers.green_relief", "options.NAME.capex_cny_per_unit",
            "data.observations", "uncertainty"} <= set(keys)
    assert len(keys) == len(set(keys)) and "observations.csv" in data_files()


def test_every_scenario_key_and_data_file_is_in_the_odd_description():
    text = ODD.read_text()
    keys = [k for k in scenario_keys() if f"`{k}`" not in text]
    files = [f for f in data_files() if f not in text]
    assert not keys and not files, (
        f"{ODD.name} does not mention {len(keys)} scenario key(s): {', '.join(keys) or 'none'}; "
        f"and {len(files)} data file(s): {', '.join(files) or 'none'} (add each, with what it "
        "means, to the tables of sections 6 and 8)")


def test_the_odd_description_has_the_protocol_sections():
    text = ODD.read_text()
    for heading in ("Purpose and patterns", "Entities, state variables and scales",
                    "Process overview and scheduling", "Design concepts", "Initialisation",
                    "Input data", "Submodels", "Assumptions flagged in the data files",
                    "What the model does not represent"):
        assert f" {heading}\n" in text, heading
    for concept in ("Basic principles", "Emergence", "Adaptation", "Objectives", "Learning",
                    "Prediction", "Sensing", "Interaction", "Stochasticity", "Collectives",
                    "Observation"):
        assert f"**{concept}.**" in text, concept
