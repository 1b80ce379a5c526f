"""Request and advice builders, and the operation table they rely on."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from terminal_agent.config import TerminalConfig
from terminal_agent.errors import ValidationError
from terminal_agent.protocol import airtime as at
from terminal_agent.protocol import builders as b
from terminal_agent.protocol import codec, suv
from terminal_agent.protocol import common as cm
from terminal_agent.protocol import moneytransfer as mt
from terminal_agent.protocol.operations import SPECS, Op, match_path, path_exists
from tests.test_protocol_models import PERSON, PIN, RECEIVER, TPI, samples

IDENTITY = b.Identity.from_config(TerminalConfig())
RESPONSE_TPI = [cm.ThirdPartyIdentifier(institution_id="44444444", transaction_identifier="R-9"),
                cm.ThirdPartyIdentifier(institution_id="33333333", transaction_identifier="S-1")]
ARCHITECTURE_OPS = """VOUCHER_PROVISION VOUCHER_CONFIRM VOUCHER_REVERSE PURCHASE PURCHASE_TRIAL
PURCHASE_CONFIRM PURCHASE_REVERSE PURCHASE_STATUS MSISDN_LOOKUP LIST_PRODUCTS MT_CUSTOMER_UPSERT
MT_CUSTOMER_INFO MT_FEE_QUOTE MT_FEE_QUOTE_POST MT_EXCHANGE_RATE MT_ORDER_CREATE MT_ORDER_CONFIRM
MT_ORDER_REVERSE MT_ORDER_LOOKUP MT_REDEEM MT_REDEEM_CONFIRM MT_REDEEM_REVERSE MT_ORDER_CANCEL
MT_ORDER_CANCEL_REVERSE SUV_LOOKUP SUV_REDEEM SUV_REDEEM_CONFIRM SUV_REDEEM_REVERSE
SUV_REDEEM_STATUS SUV_PROVISION SUV_PROVISION_CONFIRM SUV_PROVISION_REVERSE SUV_REFUND
SUV_REFUND_CONFIRM SUV_REFUND_REVERSE""".split()


# --- what the builders produce, per operation -------------------------------------------------


def _with_tpis(msg: Any) -> Any:
    msg.third_party_identifiers = list(RESPONSE_TPI)
    return msg


def originals() -> dict[Op, tuple[Any, Any]]:
    """Each financial request op -> (request, a success response to it)."""
    s = samples()
    return {
        Op.VOUCHER_PROVISION: (b.voucher_request(IDENTITY, "P1", 1000),
                               _with_tpis(s["VoucherResponse"])),
        Op.PURCHASE: (b.purchase_request(IDENTITY, "P1", 1000),
                      _with_tpis(s["PurchaseResponse"])),
        Op.MT_ORDER_CREATE: (b.create_order(IDENTITY, RECEIVER, 1000, PERSON, pin=PIN, fee=50,
                                            new_customer=True),
                             _with_tpis(s["MoneyTransferAuthResponse"])),
        Op.MT_REDEEM: (b.redeem_order(IDENTITY, RECEIVER, "12345678901234567890", 1000, pin=PIN),
                       _with_tpis(s["MoneyTransferRedeemResponse"])),
        Op.MT_ORDER_CANCEL: (b.cancel_order(IDENTITY, RECEIVER, "12345678901234567890", pin=PIN,
                                            id_number="8001015009087"),
                             _with_tpis(s["MoneyTransferOrderCancelResponse"])),
        Op.SUV_REDEEM: (b.suv_redemption(IDENTITY, "VC123", 2500, receiver=RECEIVER),
                        _with_tpis(s["RedemptionResponse"])),
        Op.SUV_PROVISION: (b.suv_provision(IDENTITY, "GIFT100", 10000, receiver=RECEIVER),
                           _with_tpis(s["ProvisionResponse"])),
        Op.SUV_REFUND: (b.suv_refund(IDENTITY, "VC123", 2500, redemption_id=b.new_id()),
                        _with_tpis(s["RefundResponse"])),
    }


def built() -> dict[Op, tuple[Any, dict[str, str] | None, str]]:
    """Every operation -> (body or None, query or None, concrete path), as the agent sends it."""
    orig = originals()
    out: dict[Op, tuple[Any, dict[str, str] | None, str]] = {}
    for op, (request, response) in orig.items():
        path = SPECS[op].render_path(requestId=request.id)
        out[op] = (request, None, path)
        reversal = b.reversal_for(op, request, response)
        out[reversal.op] = (reversal.message, None, reversal.path)
        if op is not Op.MT_ORDER_CANCEL:
            conf = b.confirmation_for(op, request, response, [b.cash_tender(1000, "710")])
            out[conf.op] = (conf.message, None, conf.path)
    product = at.Product(product_id="P7", type="AIRTIME_VARIABLE", is_direct_topup=True)
    gets = {
        Op.PURCHASE_STATUS: b.status_lookup_for(b.new_id())[1],
        Op.MSISDN_LOOKUP: b.msisdn_query("27821234567", channel_name="POS"),
        Op.LIST_PRODUCTS: b.products_query("POS"),
        Op.MT_CUSTOMER_INFO: b.customer_info_query(IDENTITY, "4444", "8001015009087",
                                                   id_type="NATIONAL_ID", id_country_code="ZA"),
        Op.MT_FEE_QUOTE: b.fee_quote_query(IDENTITY, "4444", 1000, False,
                                           sender_cell="27821234567"),
        Op.MT_EXCHANGE_RATE: b.exchange_rate_query("710", "840", receiver_id="4444"),
        Op.MT_ORDER_LOOKUP: b.order_lookup_query(IDENTITY, "4444", "12345678901234567890"),
        Op.SUV_LOOKUP: b.suv_lookup_query("VC123", receiver_inst_id="4444"),
    }
    for op, query in gets.items():
        out[op] = (None, query, SPECS[op].path)
    out[Op.SUV_REDEEM_STATUS] = (None, None,
                                 SPECS[Op.SUV_REDEEM_STATUS].render_path(requestId=b.new_id()))
    posts = {
        Op.PURCHASE_TRIAL: b.trial_request(IDENTITY, product, 1500, msisdn="27821234567"),
        Op.MT_CUSTOMER_UPSERT: b.customer_upsert(IDENTITY, RECEIVER, PERSON),
        Op.MT_FEE_QUOTE_POST: b.fee_quote_request(IDENTITY, RECEIVER, 1000, True, sender=PERSON),
    }
    for op, body in posts.items():
        out[op] = (body, None, SPECS[op].path)
    out[Op.PURCHASE] = (b.purchase_request(IDENTITY, product, 1500, msisdn="27821234567",
                                           tenders=[b.cash_tender(1500, "710")]), None,
                        SPECS[Op.PURCHASE].path)
    return out


def test_builders_cover_every_operation() -> None:
    assert set(built()) == set(Op)


@pytest.mark.parametrize("op", list(Op))
def test_built_messages_pass_strict_validation(op: Op) -> None:
    body, query, path = built()[op]
    assert match_path(SPECS[op].method, path) is not None
    assert match_path(SPECS[op].method, path)[0] is op  # type: ignore[index]
    if body is not None:
        assert type(body) is SPECS[op].request
        codec.decode_strict(SPECS[op].request, codec.encode(body))
    else:
        codec.validate_query(op, query or {})


# --- identity, ids and times -----------------------------------------------------------------


def test_identity_from_config() -> None:
    cfg = TerminalConfig(terminal_id="TERM0042", operator_id="", channel_name="TILL")
    ident = b.Identity.from_config(cfg)
    assert ident.originator.terminal_id == "TERM0042"
    assert ident.originator.operator_id is None
    assert ident.merchant.merchant_id == cfg.merchant_id
    assert ident.merchant.merchant_name.city == cfg.city
    assert ident.institution.id == cfg.institution_id
    assert ident.client == cm.Institution(id=cfg.client_id, name=cfg.client_name)
    assert (ident.currency, ident.channel_name) == ("710", "TILL")
    with_operator = b.Identity.from_config(TerminalConfig(operator_id="cashier7"))
    assert with_operator.originator.operator_id == "cashier7"


def test_new_id_is_a_fresh_uuid4() -> None:
    ids = {b.new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(uuid.UUID(i).version == 4 for i in ids)


def test_now_is_rfc3339_utc_with_milliseconds() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", b.now_rfc3339())


def test_requests_get_fresh_ids_and_our_identity() -> None:
    first, second = b.purchase_request(IDENTITY, "P1"), b.purchase_request(IDENTITY, "P1")
    assert first.id != second.id
    assert first.originator == IDENTITY.originator and first.client == IDENTITY.client
    assert first.amounts is None and first.third_party_identifiers == []


def test_purchase_request_fields() -> None:
    req = b.purchase_request(IDENTITY, "P1", 1500, "710", msisdn="27821234567",
                             sender_msisdn="27831234567", tenders=[b.cash_tender(1500, "710")])
    assert req.recipient_msisdn == at.Msisdn(msisdn="27821234567")
    assert req.sender_msisdn == at.Msisdn(msisdn="27831234567")
    assert req.amounts == cm.Amounts(request_amount=cm.LedgerAmount(amount=1500, currency="710"))
    assert req.tenders and req.tenders[0].tender_type == "CASH"


def test_wire_product_keeps_only_identifying_fields() -> None:
    catalogue = at.Product(product_id="167", name="600MB", type="DATA", is_direct_topup=True,
                           wholesale_price=cm.LedgerAmount(amount=1, currency="ZAR"))
    assert b.wire_product(catalogue) == at.Product(product_id="167", type="DATA",
                                                   is_direct_topup=True)
    assert b.wire_product(at.Product(product_id="1", type="HOLOGRAM")).type is None
    codec.encode(b.voucher_request(IDENTITY, catalogue, 5000))


def test_create_order_fills_amount_and_amounts() -> None:
    order = b.create_order(IDENTITY, RECEIVER, 1000, PERSON, fee=50)
    assert order.amount == cm.LedgerAmount(amount=1000, currency="710")
    assert order.amounts is not None and order.amounts.request_amount == order.amount
    assert order.fee == cm.LedgerAmount(amount=50, currency="710")
    assert order.new_customer is False and order.receiver == RECEIVER


def test_fee_quote_query_spells_booleans_for_java() -> None:
    assert b.fee_quote_query(IDENTITY, "1", 10, True)["amountIncludesFee"] == "true"
    assert b.fee_quote_query(IDENTITY, "1", 10, False)["amountIncludesFee"] == "false"
    assert json.loads(codec.encode(b.fee_quote_request(IDENTITY, RECEIVER, 10, False)))[
        "amountIncludesFees"] is False


@pytest.mark.parametrize(("build", "field"), [
    (lambda: b.msisdn_query("0821234567"), "msisdn"),
    (lambda: b.exchange_rate_query("ZAR", "840"), "fromCurrency"),
    (lambda: b.customer_info_query(IDENTITY, "1", "id", id_country_code="ZAF"), "idCountryCode"),
    (lambda: b.products_query(""), "channelName"),
])
def test_query_builders_reject_bad_values(build: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.field == field


def test_status_lookup_for() -> None:
    path, query = b.status_lookup_for("abc")
    assert path == "/airtime/v5/purchases/status"
    assert query == {"originalMsgId": "abc"}


# --- advices ---------------------------------------------------------------------------------


@pytest.mark.parametrize("op", list(b.ADVICE_OPS))
def test_reversal_links_to_the_original(op: Op) -> None:
    request, response = originals()[op]
    advice = b.reversal_for(op, request, response)
    msg: Any = advice.message
    assert advice.op is b.ADVICE_OPS[op][1]
    assert uuid.UUID(msg.id).version == 4 and msg.id != request.id
    assert msg.request_id == request.id
    assert msg.reversal_reason == "TIMEOUT"
    assert msg.third_party_identifiers == RESPONSE_TPI  # unchanged from the response
    assert msg.third_party_identifiers is not response.third_party_identifiers
    assert "{" not in advice.path
    codec.encode(msg)


@pytest.mark.parametrize("op", list(b.ADVICE_OPS))
def test_reversal_without_response_copies_request_identifiers(op: Op) -> None:
    request, _ = originals()[op]
    request.third_party_identifiers = list(TPI)
    advice = b.reversal_for(op, request, None, reason=cm.ReversalReason.RESPONSE_NOT_FINAL)
    msg: Any = advice.message
    assert msg.third_party_identifiers == TPI
    assert msg.reversal_reason == "RESPONSE_NOT_FINAL"
    assert json.loads(codec.encode(advice.message))["reversalReason"] == "RESPONSE_NOT_FINAL"


def test_response_without_identifiers_falls_back_to_the_request() -> None:
    request, response = originals()[Op.PURCHASE]
    request.third_party_identifiers = list(TPI)
    response.third_party_identifiers = []
    assert b.reversal_for(Op.PURCHASE, request, response).message.third_party_identifiers == TPI


def test_voucher_advices_carry_the_original_id_in_the_path() -> None:
    request, response = originals()[Op.VOUCHER_PROVISION]
    reversal = b.reversal_for(Op.VOUCHER_PROVISION, request, response, reason="CANCELLED")
    assert reversal.path == f"/airtime/v5/vouchers/{request.id}/reversals/{reversal.message.id}"
    conf = b.confirmation_for(Op.VOUCHER_PROVISION, request, response)
    assert conf.path == f"/airtime/v5/vouchers/{request.id}/confirmations/{conf.message.id}"
    assert conf.op is Op.VOUCHER_CONFIRM


def test_voucher_confirmation_identifies_voucher_without_pin() -> None:
    request, response = originals()[Op.VOUCHER_PROVISION]
    conf = b.confirmation_for(Op.VOUCHER_PROVISION, request, response,
                              [b.cash_tender(1000, "710")])
    assert isinstance(conf.message, at.VoucherConfirmation)
    assert conf.message.voucher == at.Voucher(serial_number="SN123", batch_number="B1")
    body = codec.encode(conf.message)
    assert response.voucher.pin.encode() not in body and b'"pin"' not in body


def test_purchase_confirmation_carries_tenders_others_do_not() -> None:
    request, response = originals()[Op.PURCHASE]
    tenders = [b.cash_tender(1000, "710")]
    conf = b.confirmation_for(Op.PURCHASE, request, response, tenders)
    assert isinstance(conf.message, at.PurchaseConfirmation)
    assert conf.message.tenders == tenders
    assert conf.path == "/airtime/v5/purchases/confirmations"
    assert b'"pin"' not in codec.encode(conf.message)
    for op in (Op.MT_ORDER_CREATE, Op.MT_REDEEM, Op.SUV_REDEEM):
        req, resp = originals()[op]
        body = json.loads(codec.encode(b.confirmation_for(op, req, resp, tenders).message))
        assert "tenders" not in body


def test_advice_models_per_interface() -> None:
    orig = originals()
    kinds = {
        Op.MT_ORDER_CREATE: (mt.MoneyTransferConfirmation, mt.MoneyTransferReversal),
        Op.MT_REDEEM: (mt.MoneyTransferConfirmation, mt.MoneyTransferReversal),
        Op.SUV_REDEEM: (cm.BasicAdvice, cm.BasicReversal),
        Op.PURCHASE: (at.PurchaseConfirmation, at.PurchaseReversal),
    }
    for op, (conf_type, rev_type) in kinds.items():
        request, response = orig[op]
        assert type(b.confirmation_for(op, request, response).message) is conf_type
        assert type(b.reversal_for(op, request, response).message) is rev_type
    request, response = orig[Op.MT_ORDER_CANCEL]
    assert type(b.reversal_for(Op.MT_ORDER_CANCEL, request, response).message) is \
        mt.MoneyTransferCancelOrderReversal


@pytest.mark.parametrize("op", [Op.PURCHASE_TRIAL, Op.MSISDN_LOOKUP, Op.PURCHASE_CONFIRM])
def test_operations_without_advices_refuse(op: Op) -> None:
    request, response = originals()[Op.PURCHASE]
    with pytest.raises(ValueError):
        b.reversal_for(op, request, response)


def test_cancel_has_no_confirmation() -> None:
    request, response = originals()[Op.MT_ORDER_CANCEL]
    with pytest.raises(ValueError):
        b.confirmation_for(Op.MT_ORDER_CANCEL, request, response)


def test_advice_is_frozen() -> None:
    request, response = originals()[Op.SUV_REDEEM]
    advice = b.reversal_for(Op.SUV_REDEEM, request, response)
    with pytest.raises(AttributeError):
        advice.path = "/x"  # type: ignore[misc]
    assert isinstance(advice.message, suv.BasicReversal)


# --- the operation table ---------------------------------------------------------------------


def test_op_members_are_exactly_the_documented_ones() -> None:
    assert [op.value for op in Op] == ARCHITECTURE_OPS
    assert set(SPECS) == set(Op)


@pytest.mark.parametrize("op", list(Op))
def test_spec_shape(op: Op) -> None:
    spec = SPECS[op]
    base = {"airtime": "/airtime/v5/", "moneytransfer": "/moneytransfer/v2/",
            "suv": "/suv/v1/"}[spec.interface]
    assert spec.path.startswith(base) and not spec.path.endswith("/")
    assert spec.success and all(200 <= s < 300 for s in spec.success)
    assert spec.status in spec.success
    assert (spec.request is None) == (spec.method == "GET")
    assert spec.kind in ("request", "advice", "lookup", "admin")
    params = {p: f"id-{p}" for p in spec.path_params}
    concrete = spec.render_path(**params)
    assert match_path(spec.method, concrete) == (op, params)
    assert match_path(spec.method, concrete + "/") == (op, params)
    assert match_path(spec.method.lower(), concrete) == (op, params)
    assert path_exists(concrete)


def test_render_path_needs_every_id_and_escapes_them() -> None:
    spec = SPECS[Op.VOUCHER_CONFIRM]
    with pytest.raises(KeyError):
        spec.render_path(requestId="a")
    assert spec.render_path(requestId="a/b", confirmationId="c") == \
        "/airtime/v5/vouchers/a%2Fb/confirmations/c"
    assert match_path("POST", "/airtime/v5/vouchers/a%2Fb/confirmations/c") == (
        Op.VOUCHER_CONFIRM, {"requestId": "a/b", "confirmationId": "c"})


def test_match_path_misses() -> None:
    assert match_path("GET", "/airtime/v5/purchases") is None  # wrong method
    assert match_path("POST", "/airtime/v5/nothing") is None
    assert match_path("POST", "/airtime/v5/vouchers/a/b") is None
    assert match_path("GET", "/moneytransfer/v2/admin/fees") == (Op.MT_FEE_QUOTE, {})
    assert match_path("POST", "/moneytransfer/v2/admin/fees") == (Op.MT_FEE_QUOTE_POST, {})
    assert not path_exists("/suv/v1/nothing")


def test_kinds() -> None:
    kinds = {op: SPECS[op].kind for op in Op}
    assert kinds[Op.PURCHASE] == kinds[Op.SUV_REDEEM] == kinds[Op.MT_ORDER_CANCEL] == "request"
    assert kinds[Op.VOUCHER_REVERSE] == kinds[Op.MT_ORDER_CANCEL_REVERSE] == "advice"
    assert kinds[Op.PURCHASE_STATUS] == kinds[Op.SUV_LOOKUP] == "lookup"
    assert kinds[Op.MT_CUSTOMER_UPSERT] == kinds[Op.MT_EXCHANGE_RATE] == "admin"


# --- the protocol package does no I/O --------------------------------------------------------

PROTOCOL = Path(__file__).parents[1] / "terminal_agent" / "protocol"
ALLOWED = {"__future__", "collections", "dataclasses", "datetime", "decimal", "enum",
           "functools", "re", "typing", "urllib", "uuid", "msgspec", "terminal_agent"}
ALLOWED_INTERNAL = ("terminal_agent.protocol", "terminal_agent.errors", "terminal_agent.config",
                    "terminal_agent.typeinfo")  # a lock and msgspec: no I/O


def test_protocol_imports_only_pure_modules() -> None:
    for source in sorted(PROTOCOL.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{source.name} imports {name}"
                if name.startswith("terminal_agent"):
                    assert name.startswith(ALLOWED_INTERNAL), f"{source.name} imports {name}"


def test_importing_protocol_loads_no_io_modules() -> None:
    code = ("import sys\n"
            "import terminal_agent.protocol.builders, terminal_agent.protocol.outcome\n"
            "bad = {'httpx', 'asyncio', 'sqlite3', 'aiosqlite', 'socket', 'ssl', 'starlette',"
            " 'uvicorn', 'textual'} & set(sys.modules)\n"
            "print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "[]"
