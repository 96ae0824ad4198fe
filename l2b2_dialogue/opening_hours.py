"""Today's opening hours of a department (or of the office) as the sentence key and its values.

Pure: the catalog's hours, the public holidays (config/office.yaml), the responses and today's date in, what
to say out; the engine says it. On a public holiday every department is closed (the 24/7 places stay open).
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from l2b2_common.catalog import DAYS, Catalog
from l2b2_dialogue.responses import Responses


def opening_hours_answer(catalog: Catalog, responses: Responses, target_id: str | None, info_desk: str,
                         language: str, today: datetime, holidays: Collection[date] = ()) -> tuple[str, dict[str, str]]:
    """The answer to "when are you open (today, now)?": for ``target_id``, else for the office (the info desk)."""
    target = catalog[target_id] if target_id in catalog else None
    office = target or (catalog[info_desk] if info_desk in catalog else next(iter(catalog.targets.values())))
    name = office.display_name(language)
    if office.always_open:
        return 'opening_hours_always', {'target': name,
                                        'to_target': responses.to_target(office.id, name, language)}
    if today.date() in holidays:
        return ('opening_hours_closed_holiday' if target else 'office_closed_holiday'), {'target': name}
    spans = office.opening_hours.get(DAYS[today.weekday()], ())
    if not spans:
        return ('opening_hours_closed_today' if target else 'office_closed_today'), {'target': name}
    parts = [responses.text('hours_span', language, start=f'{a:%H:%M}', end=f'{b:%H:%M}') for a, b in spans]
    return ('opening_hours_today' if target else 'office_hours_today'), {
        'target': name, 'spans': responses.join(parts, language, 'list_and')}
