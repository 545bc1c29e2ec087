"""The scenario schema: every key a scenario file may hold, its type, unit and allowed range.

Pydantic models with ``extra="forbid"``: an unknown key, a wrong type or a value out of range is
rejected at load, and ``sim.scenario`` turns the error into one message that names the file, the key
and what is allowed. Year paths (``{2025 = 90.0, 2030 = 130.0}``) are anchor points, linearly
interpolated between anchors and held flat beyond them (``sim.policy.path_value``).
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sim.datasets import defaults

Frac = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Year = Annotated[int, Field(ge=2000, le=2100)]
Path = dict[Year, NonNeg]
FracPath = dict[Year, Frac]

OPTIONS = ("rooftop_pv", "battery_storage", "green_contract", "green_certificate", "direct_supply",
           "electrification", "efficiency", "process_innovation", "ccus")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def check_provinces(values):
    allowed = defaults().province_names
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"unknown province {bad[0]!r}; allowed: {', '.join(allowed)}")
    return values


def check_industries(values):
    allowed = defaults().industry_ids
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"unknown industry {bad[0]!r}; allowed: {', '.join(allowed)}")
    return values


def check_options(values):
    bad = [v for v in values if v not in OPTIONS]
    if bad:
        raise ValueError(f"unknown retrofit option {bad[0]!r}; allowed: {', '.join(OPTIONS)}")
    return values


class Population(Section):
    firms: int = Field(500_000, ge=1, le=5_000_000, description="firm agents drawn")
    provinces: list[str] = Field(default_factory=list, description="empty = all 31")
    industries: list[str] = Field(default_factory=list, description="empty = all")
    size_draw_sd_frac: float = Field(0.15, ge=0.0, le=1.0,
                                     description="sd of firm-level intensity multiplier")
    exporter_min_share_frac: Frac = Field(0.05, description="export probability of smallest firm")
    exporter_max_share_frac: Frac = Field(0.8, description="export probability of largest firm")
    leader_size_quantile: Frac = Field(0.9, description="size quantile above which exporters lead")

    _p = field_validator("provinces")(check_provinces)
    _i = field_validator("industries")(check_industries)


class Time(Section):
    start_year: int = Field(2025, ge=2025, le=2060)
    end_year: int = Field(2060, ge=2025, le=2100)


class Grid(Section):
    ef_mult_of_2022: Path = Field(default_factory=dict,
                                  description="multiplier on 2022 provincial grid factors; "
                                              "empty = packaged grid_path.csv")
    residual_mix_follows_grid: bool = True


class Growth(Section):
    output_growth_frac_per_yr: dict[str, Annotated[float, Field(ge=-0.3, le=0.5)]] = Field(
        default_factory=dict, description="per industry; overrides industries.csv")
    growth_taper_year: int = Field(2035, ge=2025, le=2100,
                                   description="after this year growth halves (assumption)")

    @field_validator("output_growth_frac_per_yr")
    @classmethod
    def _known(cls, v):
        check_industries(list(v))
        return v


class Prices(Section):
    eur_cny: float = Field(7.8, gt=1.0, le=20.0, description="CNY per EUR")
    eu_ets_eur_per_tco2: Path = Field(default_factory=lambda: {2025: 75.0})
    electricity_cny_per_mwh: NonNeg = 650.0
    fuel_price_mult: dict[Year, NonNeg] = Field(default_factory=lambda: {2025: 1.0})


class Cbam(Section):
    enabled: bool = True
    start_year: int = Field(2026, ge=2023, le=2100)
    free_share: FracPath = Field(default_factory=dict, description="CBAM factor by year")
    markup_frac: FracPath = Field(default_factory=dict, description="mark-up on default values")
    de_minimis_t: NonNeg = 50.0
    extra_industries: list[str] = Field(default_factory=list,
                                        description="downstream goods added for what-ifs")
    extra_coverage: Literal["direct", "direct_indirect"] = "direct_indirect"
    verified_share_leaders: Frac = 1.0
    verified_share_others: Frac = 0.2

    _i = field_validator("extra_industries")(check_industries)


class Ets(Section):
    price_cny_per_tco2: Path = Field(default_factory=lambda: {2025: 90.0})
    free_share: FracPath = Field(default_factory=lambda: {2025: 1.0})
    coverage_start: dict[str, Year] = Field(default_factory=dict,
                                            description="industry -> first year; overrides data")
    offset_limit_frac: Frac = 0.05

    @field_validator("coverage_start")
    @classmethod
    def _known(cls, v):
        check_industries(list(v))
        return v


class ScenarioModel(Section):
    """Top level of a scenario file."""

    name: str = ""
    description: str = ""
    extends: str | None = None
    population: Population = Field(default_factory=Population)
    time: Time = Field(default_factory=Time)
    grid: Grid = Field(default_factory=Grid)
    growth: Growth = Field(default_factory=Growth)
    prices: Prices = Field(default_factory=Prices)
    cbam: Cbam = Field(default_factory=Cbam)
    ets: Ets = Field(default_factory=Ets)
