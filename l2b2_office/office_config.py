"""config/office.yaml: the day cycle's and the battery's settings, validated before anything starts.

Every problem raises :class:`~l2b2_common.config.ConfigError` naming the file, the key
(``office.ros__parameters.holidays[3]``) and the reason, like the other configuration files.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
import os
from pathlib import Path
import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field

from l2b2_common.config import ConfigError, StrictModel, config_path, load_model
from l2b2_office.battery import BatteryModel, BatteryPolicy
from l2b2_office.day_cycle import DayCycleSettings

DEFAULT_FILE = 'office.yaml'
NODE = 'office'
_PREFIX = f'{NODE}.ros__parameters'
_ISO_DATE = re.compile(r'^\d{4}-\d{2}-\d{2}$')


def _iso_date(value: Any) -> date:
    # An unquoted date is already a date to YAML (not to ROS, which reads it as text): accept both.
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(f'{value!r:.40} is not a date (YYYY-MM-DD)')
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f'"{value}" is not a valid date') from None


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'"{name}" is not a known time zone (e.g. Europe/Berlin)') from None
    return name


IsoDate = Annotated[Any, AfterValidator(_iso_date)]
Minutes = Annotated[float, Field(ge=0, le=24 * 60)]
Watts = Annotated[float, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]


class _Params(StrictModel):
    timezone: Annotated[str, AfterValidator(_zone)] = 'Europe/Berlin'
    holidays: list[IsoDate] = []
    closing_notice_minutes: Minutes = 15.0
    min_service_minutes: Minutes = 10.0
    stay_out_gap_minutes: Minutes = 30.0
    undock_retries: Annotated[int, Field(ge=0, le=20)] = 2
    dock_retries: Annotated[int, Field(ge=0, le=20)] = 2
    battery_capacity_wh: Annotated[float, Field(gt=0)] = 480.0
    battery_idle_w: Watts = 20.0
    battery_driving_w: Watts = 40.0
    battery_speaking_w: Watts = 10.0
    battery_charging_w: Annotated[float, Field(gt=0)] = 160.0
    battery_taper_start_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    battery_taper_min_fraction: Annotated[float, Field(gt=0, le=1)] = 0.2
    battery_low_percent: Percent = 20.0
    battery_critical_percent: Percent = 8.0
    battery_resume_percent: Percent = 80.0


class _Node(StrictModel):
    ros__parameters: _Params = _Params()


class _OfficeFile(StrictModel):
    office: _Node


@dataclass(frozen=True)
class OfficeConfig:
    """The validated file: build the calendar, the day cycle and the battery from it."""

    path: Path
    tz: ZoneInfo
    holidays: frozenset[date]
    day_cycle: DayCycleSettings
    params: _Params

    def battery_model(self, initial_percent: float = 100.0) -> BatteryModel:
        p = self.params
        return BatteryModel(capacity_wh=p.battery_capacity_wh, idle_w=p.battery_idle_w,
                            driving_w=p.battery_driving_w, speaking_w=p.battery_speaking_w,
                            charging_w=p.battery_charging_w, taper_start_percent=p.battery_taper_start_percent,
                            taper_min_fraction=p.battery_taper_min_fraction, initial_percent=initial_percent)

    def battery_policy(self) -> BatteryPolicy:
        p = self.params
        return BatteryPolicy(low_percent=p.battery_low_percent, critical_percent=p.battery_critical_percent,
                             resume_percent=p.battery_resume_percent)


def load_office_config(path: str | os.PathLike | None = None) -> OfficeConfig:
    """Load and validate config/office.yaml (or ``path``)."""
    path = config_path(path or DEFAULT_FILE)
    p = load_model(path, _OfficeFile).office.ros__parameters
    seen: set[date] = set()
    for i, day in enumerate(p.holidays):
        if day in seen:
            raise ConfigError(path, f'{_PREFIX}.holidays[{i}]', f'{day.isoformat()} is listed twice')
        seen.add(day)
    if not p.battery_critical_percent < p.battery_low_percent:
        raise ConfigError(path, f'{_PREFIX}.battery_critical_percent',
                          f'{p.battery_critical_percent} must be below battery_low_percent ({p.battery_low_percent})')
    if not p.battery_low_percent < p.battery_resume_percent:
        raise ConfigError(path, f'{_PREFIX}.battery_resume_percent',
                          f'{p.battery_resume_percent} must be above battery_low_percent ({p.battery_low_percent})')
    settings = DayCycleSettings(closing_notice_minutes=p.closing_notice_minutes,
                                min_service_minutes=p.min_service_minutes,
                                stay_out_gap_minutes=p.stay_out_gap_minutes,
                                undock_retries=p.undock_retries, dock_retries=p.dock_retries)
    return OfficeConfig(path=path, tz=ZoneInfo(p.timezone), holidays=frozenset(seen), day_cycle=settings, params=p)
