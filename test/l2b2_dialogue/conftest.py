"""Fixtures every dialogue test module shares: one understander and the response texts per module."""
from __future__ import annotations

import pytest

from l2b2_dialogue.nlu import Understander
from l2b2_dialogue.responses import load_responses


@pytest.fixture(scope='module')
def nlu():
    return Understander()


@pytest.fixture(scope='module')
def responses():
    return load_responses()
