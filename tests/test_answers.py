"""The switch's answers are decoded once: the classifier's parse serves the steps after it."""

from __future__ import annotations

from terminal_agent.core import answers
from terminal_agent.protocol import codec
from terminal_agent.protocol.operations import Op

BODY = (b'{"id": "7c1b5a0e-0000-4000-8000-000000000001", "voucher": {"pin": "1234567890123456",'
        b' "serialNumber": "949587089391"}}')


def test_the_same_answer_is_parsed_once(monkeypatch):
    calls = []
    real = codec.decode

    def counted(model, data):
        calls.append(model.__name__)
        return real(model, data)

    monkeypatch.setattr(codec, "decode", counted)
    first = answers.answer_of(Op.VOUCHER_PROVISION, BODY)
    again = answers.answer_of(Op.VOUCHER_PROVISION, bytes(BODY))
    assert first is again and first.voucher.pin == "1234567890123456"
    assert calls == ["VoucherResponse"]


def test_the_classifiers_parse_is_remembered_and_few_are_kept(monkeypatch):
    monkeypatch.setattr(codec, "decode", lambda *a: (_ for _ in ()).throw(AssertionError))
    model = object()
    answers.remember(Op.VOUCHER_PROVISION, b"{}x", model)
    assert answers.answer_of(Op.VOUCHER_PROVISION, b"{}x") is model
    for n in range(answers.KEPT + 1):
        answers.remember(Op.VOUCHER_PROVISION, f"{n}".encode(), object())
    assert (Op.VOUCHER_PROVISION, b"{}x") not in answers._models  # the oldest went first
    assert len(answers._models) <= answers.KEPT


def test_no_body_or_a_broken_one_is_no_model():
    assert answers.answer_of(Op.VOUCHER_PROVISION, None) is None
    assert answers.answer_of(Op.VOUCHER_PROVISION, b"not json") is None
