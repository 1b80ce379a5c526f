"""Every wire model: a good message encodes and round-trips; each constraint violation raises
ValidationError naming the JSON path; lenient decoding survives what real servers send."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from terminal_agent.config import TerminalConfig
from terminal_agent.errors import AgentError, ValidationError
from terminal_agent.protocol import airtime as at
from terminal_agent.protocol import builders as b
from terminal_agent.protocol import codec, suv
from terminal_agent.protocol import common as cm
from terminal_agent.protocol import moneytransfer as mt
from terminal_agent.protocol.operations import Op

ID = "3f0c8a52-6f0e-4c1e-9a57-1b2c3d4e5f60"
TIME = "2024-05-01T10:02:03.123Z"
IDENTITY = b.Identity.from_config(TerminalConfig())
RECEIVER = cm.Institution(id="4444", name="Provider")
TPI = [cm.ThirdPartyIdentifier(institution_id="3333", transaction_identifier="SE-1")]
PIN = cm.EncryptedPin(pin_block="0123456789abcdef",
                      encryption_parameters=cm.EncryptionParameters(account_number="123456789012"))
PERSON = mt.PersonalDetails(first_name="Thandi", last_name="Mokoena", id_number="8001015009087",
                            id_type="NATIONAL_ID", id_country_code="ZA", nationality="ZA",
                            contact_number="27821234567")


def _envelope() -> dict[str, Any]:
    return {"id": ID, "time": TIME, "originator": IDENTITY.originator, "client": IDENTITY.client,
            "third_party_identifiers": list(TPI)}


def _amount(value: int = 1000) -> cm.LedgerAmount:
    return cm.LedgerAmount(amount=value, currency="710")


def _advice(**extra: Any) -> dict[str, Any]:
    return {"id": b.new_id(), "request_id": ID, "time": TIME, "third_party_identifiers": TPI,
            **extra}


def samples() -> dict[str, Any]:
    """One valid instance of every model the agent sends or reads."""
    voucher = at.Voucher(serial_number="SN123", pin="1234567890", batch_number="B1",
                         expiry_date="2025-01-01T00:00:00Z", redeem_instructions=["Dial *100#"])
    product = at.Product(product_id="P1", type="AIRTIME_FIXED", is_direct_topup=False)
    slip = cm.SlipData(message_lines=[cm.SlipLine(text="Thanks")], slip_width=32,
                       issuer_reference="REF123")
    tender = b.cash_tender(1000, "710")
    return {
        "PurchaseRequest": at.PurchaseRequest(
            **_envelope(), product=product, amounts=cm.Amounts(request_amount=_amount()),
            tenders=[tender], recipient_msisdn=at.Msisdn(msisdn="27821234567", country="ZA"),
            slip_data=slip, tran_type="GOODS_AND_SERVICES"),
        "PurchaseResponse": at.PurchaseResponse(**_envelope(), product=product, voucher=voucher,
                                                slip_data=slip),
        "PurchaseConfirmation": at.PurchaseConfirmation(**_advice(tenders=[tender])),
        "PurchaseReversal": at.PurchaseReversal(**_advice(reversal_reason="TIMEOUT")),
        "VoucherRequest": at.VoucherRequest(**_envelope(), product=product),
        "VoucherResponse": at.VoucherResponse(**_envelope(), voucher=voucher),
        "VoucherConfirmation": at.VoucherConfirmation(
            **_advice(tenders=[tender]), voucher=at.Voucher(serial_number="SN123")),
        "BasicReversal": cm.BasicReversal(**_advice(reversal_reason="CANCELLED")),
        "BasicAdvice": cm.BasicAdvice(**_advice()),
        "BasicAdviceResponse": cm.BasicAdviceResponse(**_advice()),
        "MsisdnInfoResponse": at.MsisdnInfoResponse(
            msisdn=at.Msisdn(msisdn="27821234567"), available_products=[product],
            promotion=at.Promotion(promotion="Double data", start_date=TIME)),
        "Product": at.Product(
            product_id="P2", name="1GB", type="DATA", validity_period=at.ValidityPeriod(
                duration=30, duration_unit="DAYS"),
            product_contents=[at.ProductContent(amount=1, unit="GB")],
            channels=[at.ChannelProductListing(channel_name="POS")]),
        "ErrorDetail": cm.ErrorDetail(id=ID, error_type="FORMAT_ERROR", error_message="Bad",
                                      request_type="PURCHASE_REQUEST"),
        "MoneyTransferAdminMessage": mt.MoneyTransferAdminMessage(
            originator=IDENTITY.originator, receiver=RECEIVER, customer_details=PERSON),
        "MoneyTransferQuoteRequest": mt.MoneyTransferQuoteRequest(
            originator=IDENTITY.originator, receiver=RECEIVER, amount=_amount(),
            amount_includes_fees=False),
        "MoneyTransferFeeQuote": mt.MoneyTransferFeeQuote(
            originator=IDENTITY.originator, receiver=RECEIVER, quote_id="Q1",
            fee_quote=mt.FeeQuote(fee_amount=_amount(50), transfer_amount=_amount(),
                                  total_amount=_amount(1050))),
        "MoneyTransferExchangeRateResponse": mt.MoneyTransferExchangeRateResponse(
            exchange_rate=cm.ExchangeRate(rate=0.05, from_currency="710", to_currency="840")),
        "MoneyTransferAuthRequest": mt.MoneyTransferAuthRequest(
            **_envelope(), receiver=RECEIVER, amount=_amount(), sender_details=PERSON, pin=PIN,
            new_customer=True, fee=_amount(50), purpose_of_remittance="FAMILY_SUPPORT"),
        "MoneyTransferAuthResponse": mt.MoneyTransferAuthResponse(
            **_envelope(), amount=_amount(), sender_details=PERSON,
            order_redeem_ref="12345678901234567890"),
        "MoneyTransferConfirmation": mt.MoneyTransferConfirmation(**_advice()),
        "MoneyTransferReversal": mt.MoneyTransferReversal(**_advice(reversal_reason="TIMEOUT")),
        "MoneyTransferLookupResponse": mt.MoneyTransferLookupResponse(
            amount=_amount(), receiver=RECEIVER, status="UNREDEEMED"),
        "MoneyTransferRedeemRequest": mt.MoneyTransferRedeemRequest(
            **_envelope(), order_redeem_ref="12345678901234567890", amount=_amount(), pin=PIN,
            cashier_comment="ok"),
        "MoneyTransferRedeemResponse": mt.MoneyTransferRedeemResponse(
            **_envelope(), amount=_amount(), order_id="O1"),
        "MoneyTransferOrderCancelRequest": mt.MoneyTransferOrderCancelRequest(
            **_envelope(), order_redeem_ref="12345678901234567890", id_number="8001015009087"),
        "MoneyTransferOrderCancelResponse": mt.MoneyTransferOrderCancelResponse(
            **_envelope(), amount=_amount(), order_redeem_ref="1", order_id="O1"),
        "MoneyTransferCancelOrderReversal": mt.MoneyTransferCancelOrderReversal(
            **_advice(reversal_reason="RESPONSE_NOT_FINAL")),
        "VoucherLookupResponse": suv.VoucherLookupResponse(
            voucher=suv.Voucher(code="VC1", serial_number="S1"),
            amounts=cm.Amounts(approved_amount=cm.LedgerAmount(
                amount=5000, currency="710", ledger_indicator="CREDIT"))),
        "RedemptionRequest": suv.RedemptionRequest(
            **_envelope(), voucher=suv.Voucher(code="VC1", pin=suv.Pin(type="CLEAR_PIN",
                                                                        pin="1234")),
            amounts=cm.Amounts(request_amount=_amount()),
            pos_info=cm.PosInfo(entry_mode=cm.PosEntryMode(
                pan_entry_mode="BARCODE", pin_entry_capability="CAN_ACCEPT"))),
        "RedemptionResponse": suv.RedemptionResponse(
            **_envelope(), amounts=cm.Amounts(approved_amount=_amount())),
        "ProvisionRequest": suv.ProvisionRequest(
            **_envelope(), product=suv.Product(product_id="GIFT100"),
            amounts=cm.Amounts(request_amount=_amount())),
        "ProvisionResponse": suv.ProvisionResponse(
            **_envelope(), voucher=suv.Voucher(code="VC9", serial_number="S9",
                                               expiry_date="2026-01-01T00:00:00Z")),
        "RefundRequest": suv.RefundRequest(
            **_envelope(), voucher=suv.Voucher(code="VC1"), redemption_id=ID,
            amounts=cm.Amounts(request_amount=_amount())),
        "RefundResponse": suv.RefundResponse(
            **_envelope(), amounts=cm.Amounts(approved_amount=_amount())),
        "ProvisionConfirmation": suv.ProvisionConfirmation(**_advice(tenders=[tender])),
    }


def set_path(msg: Any, path: str, value: Any) -> Any:
    """A deep copy of ``msg`` with the camelCase JSON ``path`` (``a.b[0].c``) set to ``value``."""
    copy = msgspec.convert(msgspec.to_builtins(msg), type(msg))
    target: Any = copy
    parts = path.replace("[", ".[").split(".")
    for part in parts[:-1]:
        target = _step(target, part)
    last = parts[-1]
    names = dict(zip(type(target).__struct_encode_fields__, type(target).__struct_fields__,
                     strict=True))
    setattr(target, names[last], value)
    return copy


def _step(obj: Any, part: str) -> Any:
    if part.startswith("["):
        return obj[int(part[1:-1])]
    names = dict(zip(type(obj).__struct_encode_fields__, type(obj).__struct_fields__,
                     strict=True))
    return getattr(obj, names[part])


# --- good messages ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(samples()))
def test_good_message_encodes_and_round_trips(name: str) -> None:
    msg = samples()[name]
    data = codec.encode(msg)
    assert codec.decode(type(msg), data) == msg
    assert codec.decode_strict(type(msg), data) == msg
    assert b"null" not in data  # absent fields are omitted, never sent as null


def test_encode_uses_camel_case_and_exact_keys() -> None:
    body = json.loads(codec.encode(samples()["PurchaseRequest"]))
    assert body["originator"]["terminalId"] == "TILL0001"
    assert body["recipientMsisdn"]["msisdn"] == "27821234567"
    assert body["product"]["isDirectTopup"] is False
    assert body["thirdPartyIdentifiers"][0]["transactionIdentifier"] == "SE-1"


def test_empty_third_party_identifiers_are_still_sent() -> None:
    msg = set_path(samples()["PurchaseReversal"], "thirdPartyIdentifiers", [])
    assert json.loads(codec.encode(msg))["thirdPartyIdentifiers"] == []


def test_list_of_models_encodes() -> None:
    products = [samples()["Product"]]
    assert codec.decode(list[at.Product], codec.encode(products)) == products


# --- strict: every constraint names its field ------------------------------------------------

LONG = "x" * 300
VIOLATIONS: list[tuple[str, str, Any]] = [
    # (sample, JSON path, bad value)
    ("PurchaseRequest", "id", "not-a-uuid"),
    ("PurchaseRequest", "id", "3f0c8a52-6f0e-1c1e-9a57-1b2c3d4e5f60"),  # version 1
    ("PurchaseRequest", "time", "2024-05-01T10:02:03Z"),  # no milliseconds
    ("PurchaseRequest", "time", "yesterday"),
    ("PurchaseRequest", "originator.terminalId", "TILL01"),
    ("PurchaseRequest", "originator.terminalId", "TILL00001"),
    ("PurchaseRequest", "originator.operatorId", "o" * 31),
    ("PurchaseRequest", "originator.institution.name", "n" * 41),
    ("PurchaseRequest", "originator.merchant.merchantId", "12345"),
    ("PurchaseRequest", "originator.merchant.merchantType", "54A1"),
    ("PurchaseRequest", "originator.merchant.merchantType", "541"),
    ("PurchaseRequest", "originator.merchant.merchantName.name", "n" * 24),
    ("PurchaseRequest", "originator.merchant.merchantName.city", "c" * 14),
    ("PurchaseRequest", "originator.merchant.merchantName.region", "GPX"),
    ("PurchaseRequest", "originator.merchant.merchantName.country", "ZAF"),
    ("PurchaseRequest", "client.name", "n" * 41),
    ("PurchaseRequest", "originator", None),
    ("PurchaseRequest", "client", None),
    ("PurchaseRequest", "product", None),
    ("PurchaseRequest", "thirdPartyIdentifiers[0].transactionIdentifier", None),
    ("PurchaseRequest", "amounts.requestAmount.currency", "ZAR"),
    ("PurchaseRequest", "amounts.requestAmount.currency", "71"),
    ("PurchaseRequest", "amounts.requestAmount.amount", 10.5),
    ("PurchaseRequest", "amounts.requestAmount.amount", True),
    ("PurchaseRequest", "amounts.requestAmount.amount", "1000"),
    ("PurchaseRequest", "amounts.requestAmount.ledgerIndicator", "SIDEWAYS"),
    ("PurchaseRequest", "recipientMsisdn.msisdn", "0821234567"),
    ("PurchaseRequest", "recipientMsisdn.msisdn", "27 82 123"),
    ("PurchaseRequest", "recipientMsisdn.country", "ZAF"),
    ("PurchaseRequest", "product.productId", "P-1"),
    ("PurchaseRequest", "product.productId", ""),
    ("PurchaseRequest", "product.barcode", "1" * 14),
    ("PurchaseRequest", "product.type", "HOLOGRAM"),
    ("PurchaseRequest", "tenders[0].tenderType", "BITCOIN"),
    ("PurchaseRequest", "tenders[0].cardNumber", "4111111111111111"[:5]),
    ("PurchaseRequest", "tenders[0].reference", "r" * 41),
    ("PurchaseRequest", "tenders[0].accountType", "GIFT_CARD"),
    ("PurchaseRequest", "slipData.issuerReference", "lower-case"),
    ("PurchaseRequest", "tranType", "GOODS"),
    ("PurchaseRequest", "srcAccType", "PIGGY_BANK"),
    ("PurchaseResponse", "voucher.pin", "12ab"),
    ("PurchaseResponse", "voucher.serialNumber", "S" * 21),
    ("PurchaseResponse", "voucher.expiryDate", "tomorrow"),
    ("PurchaseConfirmation", "requestId", "x"),
    ("PurchaseConfirmation", "time", "2024-05-01 10:02:03.123"),
    ("PurchaseReversal", "reversalReason", "BECAUSE"),
    ("PurchaseReversal", "id", ID.upper().replace("4C1E", "1C1E")),
    ("VoucherResponse", "voucher.pin", None),
    ("VoucherConfirmation", "voucher.pin", "1234"),
    ("Product", "name", ""),
    ("Product", "validityPeriod.duration", -1),
    ("Product", "productContents[0].unit", "TB"),
    ("Product", "channels[0].channelName", "c" * 51),
    ("MsisdnInfoResponse", "promotion.startDate", "soon"),
    ("ErrorDetail", "errorType", None),
    ("ErrorDetail", "errorMessage", None),
    ("MoneyTransferAdminMessage", "receiver", None),
    ("MoneyTransferAdminMessage", "customerDetails.contactNumber", "0821234567"),
    ("MoneyTransferAdminMessage", "customerDetails.idCountryCode", "ZAF"),
    ("MoneyTransferAdminMessage", "customerDetails.nationality", "RSA"),
    ("MoneyTransferAdminMessage", "customerDetails.idType", "BIRTH_CERT"),
    ("MoneyTransferQuoteRequest", "amount.amount", 1.0),
    ("MoneyTransferExchangeRateResponse", "exchangeRate.toCurrency", "USD"),
    ("MoneyTransferAuthRequest", "pin.pinBlock", "XYZ"),
    ("MoneyTransferAuthRequest", "pin.encryptionParameters.accountNumber", "123"),
    ("MoneyTransferAuthRequest", "fee.currency", "ZAR"),
    ("MoneyTransferAuthRequest", "purposeOfRemittance", "HOLIDAY"),
    ("MoneyTransferAuthRequest", "senderDetails", None),
    ("MoneyTransferAuthRequest", "amount", None),
    ("MoneyTransferAuthResponse", "senderDetails", None),
    ("MoneyTransferLookupResponse", "status", "LOST"),
    ("MoneyTransferLookupResponse", "amount", None),
    ("MoneyTransferRedeemRequest", "cashierComment", "c" * 257),
    ("MoneyTransferRedeemRequest", "orderRedeemRef", None),
    ("MoneyTransferRedeemResponse", "orderId", None),
    ("MoneyTransferOrderCancelResponse", "orderRedeemRef", None),
    ("MoneyTransferCancelOrderReversal", "reversalReason", None),
    ("VoucherLookupResponse", "voucher.code", "c" * 41),
    ("RedemptionRequest", "voucher.code", None),
    ("RefundRequest", "voucher.code", None),
    ("ProvisionConfirmation", "tenders", None),
    ("RedemptionRequest", "voucher.pin.type", "SECRET"),
    ("RedemptionRequest", "voucher.pin.pin", "1" * 21),
    ("RedemptionRequest", "posInfo.entryMode.panEntryMode", "TELEPATHY"),
    ("RedemptionResponse", "amounts.approvedAmount.amount", 9.99),
]


@pytest.mark.parametrize(("name", "path", "value"), VIOLATIONS)
def test_each_violation_names_its_json_field(name: str, path: str, value: Any) -> None:
    bad = set_path(samples()[name], path, value)
    with pytest.raises(ValidationError) as caught:
        codec.encode(bad)
    assert caught.value.field == path
    with pytest.raises(ValidationError):
        codec.validate(bad)


@pytest.mark.parametrize(("name", "path", "value"), VIOLATIONS)
def test_decode_strict_rejects_the_same_violation(name: str, path: str, value: Any) -> None:
    bad = set_path(samples()[name], path, value)
    body = json.dumps(msgspec.to_builtins(bad)).encode()
    with pytest.raises(ValidationError) as caught:
        codec.decode_strict(type(bad), body)
    assert caught.value.field == path


def test_decode_strict_names_missing_and_mistyped_fields() -> None:
    body = json.loads(codec.encode(samples()["PurchaseRequest"]))
    del body["originator"]["terminalId"]
    with pytest.raises(ValidationError) as caught:
        codec.decode_strict(at.PurchaseRequest, json.dumps(body).encode())
    assert (caught.value.field, caught.value.reason) == ("originator.terminalId", "is required")
    body = json.loads(codec.encode(samples()["PurchaseRequest"]))
    body["amounts"]["requestAmount"]["amount"] = "1000"
    with pytest.raises(ValidationError) as caught:
        codec.decode_strict(at.PurchaseRequest, json.dumps(body).encode())
    assert caught.value.field == "amounts.requestAmount.amount"


@pytest.mark.parametrize("data", [b"", b"{", b"<html>500</html>", b"\xff\xfe"])
def test_decode_strict_invalid_json_is_body_error(data: bytes) -> None:
    with pytest.raises(ValidationError) as caught:
        codec.decode_strict(at.PurchaseRequest, data)
    assert caught.value.field == "(body)"


def test_encode_refuses_non_models() -> None:
    with pytest.raises(ValidationError):
        codec.encode({"id": ID})


# --- lenient decoding ------------------------------------------------------------------------


def test_unknown_fields_and_enum_values_are_tolerated() -> None:
    body = json.loads(codec.encode(samples()["PurchaseResponse"]))
    body["transactionLabels"] = [{"name": "a", "value": "b"}]
    body["product"]["type"] = "HOLOGRAM"
    body["product"]["futureField"] = {"x": 1}
    body["srcAccType"] = "CRYPTO"
    msg = codec.decode(at.PurchaseResponse, json.dumps(body).encode())
    assert msg.product.type == "HOLOGRAM"


def test_error_detail_real_world_shapes() -> None:
    over_long = {"id": "dfc9dea0-f5cf-758d-6207-cb57fc7ddb16", "errorType": "BRAND_NEW_ERROR",
                 "errorMessage": "An error message that is far longer than twenty characters",
                 "detailMessage": "plain string"}
    err = codec.decode(cm.ErrorDetail, json.dumps(over_long).encode())
    assert err.error_type == "BRAND_NEW_ERROR" and err.known_type is None
    assert err.detail_message == "plain string"
    as_object = {"errorType": "FORMAT_ERROR", "errorMessage": "Bad formatting",
                 "detailMessage": {"formatErrors": [{"field": "product", "msg": "null"}]}}
    err = codec.decode(cm.ErrorDetail, json.dumps(as_object).encode())
    assert err.id is None and err.request_type is None
    assert err.known_type is cm.ErrorType.FORMAT_ERROR
    assert err.detail_message["formatErrors"][0]["field"] == "product"
    as_list = {"errorType": "SYSTEM_ERROR", "errorMessage": "x", "detailMessage": ["a", "b"]}
    assert codec.decode(cm.ErrorDetail, json.dumps(as_list).encode()).detail_message == ["a", "b"]


def test_numbers_as_strings_and_explicit_nulls_are_tolerated() -> None:
    body = [{"productId": "167", "recipientAmount": {"amount": "5000", "currency": "710"},
             "validityPeriod": {"duration": "5", "durationUnit": "DAYS"}, "barcode": None}]
    products = codec.decode(list[at.Product], json.dumps(body).encode())
    assert products[0].recipient_amount is not None
    assert products[0].recipient_amount.amount == 5000


def test_alphabetic_currency_decodes_leniently_but_fails_strictly() -> None:
    body = json.loads(codec.encode(samples()["VoucherResponse"]))
    body["amounts"] = {"approvedAmount": {"amount": 1000, "currency": "ZAR"}}
    data = json.dumps(body).encode()
    assert codec.decode(at.VoucherResponse, data).amounts is not None
    with pytest.raises(ValidationError) as caught:
        codec.decode_strict(at.VoucherResponse, data)
    assert caught.value.field == "amounts.approvedAmount.currency"


def test_exchange_rate_reads_both_shapes() -> None:
    nested = b'{"exchangeRate": {"rate": 0.055, "fromCurrency": "710", "toCurrency": "840"}}'
    bare = b'{"rate": 0.055, "fromCurrency": "710", "toCurrency": "840"}'
    for data in (nested, bare):
        rate: cm.ExchangeRate | None = codec.decode(mt.MoneyTransferExchangeRateResponse,
                                                     data).resolved()
        assert rate is not None and rate.to_currency == "840"
        assert rate.rate == pytest.approx(0.055)
    assert codec.decode(mt.MoneyTransferExchangeRateResponse, b"{}").resolved() is None


@pytest.mark.parametrize("data", [b"", b"not json", b"<html/>", b"{", b"[1, 2]", b'"text"',
                                  b'{"id": 5}'])
def test_lenient_decode_raises_decode_error_on_garbage(data: bytes) -> None:
    with pytest.raises(codec.DecodeError) as caught:
        codec.decode(at.PurchaseResponse, data)
    assert isinstance(caught.value, AgentError)


def test_voucher_response_without_a_voucher_is_read_but_is_no_approval() -> None:
    """Tolerant reading (issue 10 item 4), but a provision succeeds only when it carries the
    voucher (seed 000, item 2): the classifier, not the decoder, refuses it."""
    from terminal_agent.protocol.operations import Op
    from terminal_agent.protocol.outcome import Verdict, classify

    body = json.loads(codec.encode(samples()["VoucherResponse"]))
    del body["voucher"]
    raw = json.dumps(body).encode()
    assert codec.decode(at.VoucherResponse, raw).voucher is None
    assert classify(Op.VOUCHER_PROVISION, 201, raw).verdict is Verdict.UNKNOWN
    with pytest.raises(ValidationError):  # the simulator may never send one
        codec.decode_strict(at.VoucherResponse, raw)


def test_response_without_client_is_read() -> None:
    """Electrum's test server sends a voucher response without ``client`` (airtime §7)."""
    body = json.loads(codec.encode(samples()["VoucherResponse"]))
    del body["client"]
    assert codec.decode(at.VoucherResponse, json.dumps(body).encode()).voucher is not None


def test_secrets_stay_out_of_reprs() -> None:
    assert "1234567890" not in repr(samples()["PurchaseResponse"].voucher)
    assert "0123456789abcdef" not in repr(PIN)
    assert "8001015009087" not in repr(PERSON)
    assert "VC1" not in repr(samples()["RedemptionRequest"].voucher)


def test_error_type_enum_covers_every_interface() -> None:
    assert cm.AIRTIME_ERROR_TYPES | cm.MONEYTRANSFER_ERROR_TYPES | cm.SUV_ERROR_TYPES == set(
        cm.ErrorType)
    assert cm.ErrorType.OUTCOME_UNKNOWN in cm.AIRTIME_ERROR_TYPES
    assert cm.ErrorType.CUSTOMER_CHECK_FAILED in cm.MONEYTRANSFER_ERROR_TYPES
    assert {cm.ErrorType.DO_NOT_HONOUR, cm.ErrorType.DO_NOT_HONOR} <= cm.SUV_ERROR_TYPES


def test_validate_query() -> None:
    codec.validate_query(Op.MSISDN_LOOKUP, {"msisdn": "27821234567"})
    cases = [
        (Op.MSISDN_LOOKUP, {}, "msisdn"),
        (Op.MSISDN_LOOKUP, {"msisdn": "0821234567"}, "msisdn"),
        (Op.LIST_PRODUCTS, {}, "channelName"),
        (Op.PURCHASE_STATUS, {"purchaseReference": "r"}, "originalMsgId"),
        (Op.MT_FEE_QUOTE, {"amount": "1", "amountIncludesFee": "yes", "originatorInstId": "1",
                           "receiverId": "2"}, "amountIncludesFee"),
        (Op.MT_EXCHANGE_RATE, {"fromCurrency": "ZAR", "toCurrency": "840"}, "fromCurrency"),
        (Op.MT_CUSTOMER_INFO, {"idNumber": "1"}, "receiverId"),
        (Op.MT_ORDER_LOOKUP, {"receiverId": "1"}, "orderRedeemRef"),
    ]
    for op, query, field in cases:
        with pytest.raises(ValidationError) as caught:
            codec.validate_query(op, query)
        assert caught.value.field == field, (op, query)
    codec.validate_query(Op.PURCHASE_STATUS, {"purchaseReference": "r", "provider": "p"})


def test_decimal_rate_is_sent_as_a_json_number() -> None:
    from decimal import Decimal

    msg = mt.MoneyTransferExchangeRateResponse(rate=Decimal("0.055"), from_currency="710",
                                               to_currency="840")
    assert json.loads(codec.encode(msg))["rate"] == 0.055
