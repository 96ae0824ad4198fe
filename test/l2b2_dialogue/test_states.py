"""The state table is the one description of every state: the machine, the engine and the tools read it."""
from __future__ import annotations

import dataclasses

import pytest

from l2b2_dialogue import diagram, normalize, states
from l2b2_dialogue import engine as eng
from l2b2_dialogue.nlu import Understander
from l2b2_dialogue.responses import load_responses
from l2b2_dialogue.settings import Settings


@pytest.fixture(scope='module')
def engine():
    nlu = Understander()
    return eng.DialogueEngine(nlu.catalog, nlu, load_responses())


def test_the_machine_has_exactly_the_table_states(engine):
    assert list(engine.machine.states) == list(states.SPECS) == list(eng.STATES)
    for t in states.TRANSITIONS:
        sources = t['source'] if isinstance(t['source'], list) else [t['source']]
        assert all(s == '*' or s in states.SPECS for s in sources), t
        assert t['dest'] in states.SPECS


def test_every_method_and_setting_the_table_names_exists(engine):
    settings = {f.name for f in dataclasses.fields(Settings)}
    responses = load_responses()
    for spec in states.SPECS.values():
        assert spec.timeout is None or spec.timeout in settings, spec
        assert bool(spec.timeout) == bool(spec.on_timeout), spec
        for method in (spec.on_timeout, spec.hear, spec.choices if isinstance(spec.choices, str) else ''):
            assert not method or callable(getattr(engine, method, None)), (spec.name, method)
        for q in (spec.question, spec.name_question):
            if q is not None:
                assert q.first in responses.by_language['de'].texts and q.again in responses.by_language['de'].texts
                assert not q.values or callable(getattr(engine, q.values, None))


def test_states_that_ask_bound_misunderstandings_and_answer_a_language_switch():
    asking = {s.name for s in states.SPECS.values() if s.question is not None}
    assert asking == {*states.CONVERSING, 'staff_handoff'}


def test_the_diagram_tool_writes_the_picture(tmp_path, capsys):
    path = tmp_path / 'states.svg'
    assert diagram.main([str(path)]) == 0
    assert path.read_text(encoding='utf-8').lstrip().startswith('<?xml') and str(path) in capsys.readouterr().out


def test_an_utterance_is_cleaned_once_on_its_way_through_the_engine(engine, monkeypatch):
    calls = []
    real = normalize.clean

    def counting(text, language=''):
        calls.append(text)
        return real(text, language)

    for module in ('l2b2_dialogue.normalize', 'l2b2_dialogue.langdet', 'l2b2_dialogue.times'):
        monkeypatch.setattr(f'{module}.clean', counting)
    engine.hear('ich habe einen Termin um halb elf, Nummer 4711', '', 1.0)  # language detection, time, number
    assert engine.state == 'checkin' and engine.session.booking_number == '4711'
    assert len(calls) == 1
