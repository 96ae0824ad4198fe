"""The speaking policy: priorities, interruptions, e-stop."""
from l2b2_speech.say_queue import HIGH, NORMAL, SAFETY, SayQueue, Utterance


def u(uid, priority=NORMAL, interruptible=True):
    return Utterance(uid, f'text {uid}', 'de', priority, interruptible)


def test_normal_requests_queue_in_order_and_never_cut_the_current():
    q = SayQueue()
    q.submit(u('a'))
    assert q.take().utterance_id == 'a'
    assert q.submit(u('b')) == (True, False)
    assert q.submit(u('c', interruptible=False)) == (True, False)
    assert [q.take().utterance_id, q.take().utterance_id] == ['b', 'c']


def test_high_cuts_only_an_interruptible_sentence_and_goes_first():
    q = SayQueue()
    q.submit(u('a'))
    q.take()
    q.submit(u('b'))
    assert q.submit(u('h', HIGH)) == (True, True)
    assert q.take().utterance_id == 'h'
    q.submit(u('x', interruptible=False))
    q.take()
    q.take()  # 'b'
    q.current = Utterance('fixed', 't', 'de', NORMAL, False)
    assert q.submit(u('h2', HIGH)) == (True, False)


def test_safety_cuts_everything_and_drops_the_queue():
    q = SayQueue()
    q.submit(u('a', interruptible=False))
    q.take()
    q.submit(u('b'))
    q.submit(u('h', HIGH))
    assert q.submit(u('s', SAFETY)) == (True, True)
    assert q.take().utterance_id == 's'
    assert q.take() is None
    assert not q.barge_in_allowed()


def test_estop_accepts_only_safety_sentences():
    q = SayQueue()
    q.submit(u('a'))
    assert q.set_estop(True) is True
    assert q.set_estop(True) is False
    assert q.pending == []
    assert q.submit(u('b')) == (False, False)
    assert q.submit(u('s', SAFETY))[0]
    q.set_estop(False)
    assert q.submit(u('c'))[0]


def test_barge_in_only_for_interruptible_non_safety():
    q = SayQueue()
    assert not q.barge_in_allowed()
    q.submit(u('a'))
    q.take()
    assert q.barge_in_allowed()
    q.current = Utterance('n', 't', 'de', NORMAL, False)
    assert not q.barge_in_allowed()


def said(uid, conversation, priority=NORMAL):
    return Utterance(uid, f'text {uid}', 'de', priority, True, conversation)


def test_a_new_conversation_drops_the_last_ones_queued_sentences_and_cuts_its_current():
    q = SayQueue()
    q.submit(said('bye', 'A'))
    q.take()
    q.submit(said('number', 'A'))      # the last visitor's waiting number, still queued
    q.submit(u('staff'))               # a staff sentence (no conversation)
    assert q.submit(said('hello', 'B')) == (True, True)
    assert [p[2].utterance_id for p in q.pending] == ['staff', 'hello']
    q.take()
    assert q.submit(said('more', 'B')) == (True, False)  # same conversation: queued, nothing cut
    assert [q.take().utterance_id, q.take().utterance_id] == ['hello', 'more']


def test_a_new_conversation_never_cuts_a_safety_or_staff_sentence():
    q = SayQueue()
    q.submit(said('a', 'A'))
    q.current = said('safe', '', SAFETY)
    assert q.submit(said('b', 'B')) == (True, False)
    q.current = u('staff')
    assert q.submit(said('c', 'C')) == (True, False)
