"""No secret reaches a log line: every kind of message, as JSON text, as a dict repr, as
``extra`` fields and inside an exception traceback, through a real configured logger."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from terminal_agent.config import LoggingConfig
from terminal_agent.logs import MaskingFilter, log_event, mask, setup_logging

# Secrets, each unique so a scan of the output finds any leak. The MSISDNs keep their last 4.
VOUCHER_PIN = "73914682051937"
SUV_CODE = "91846225275582274774"
PIN_BLOCK = "C09487F52DAA6E10"
PIN_BLOCK_ACCOUNT = "277173737080"
CLEAR_PIN = "4417"
HASHED_PIN = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
SA_ID = "8001015009087"
SA_ID_2 = "9202204720082"
PASSPORT = "A12345678"
PASSWORD = "Sw1tchPa55!"
BASIC = "MTIzNDpTdzF0Y2hQYTU1IQ=="  # base64("1234:Sw1tchPa55!")
TOKEN = "eyJhbGciOiJIUzI1NiJ9.payload.sig"
REDEEM_REF = "PXQ7731992048"
CARD = "6009123456789012"
MSISDNS = ["27821234567", "27607660257", "27717373708", "27717373707", "27717373705",
           "0831112222", "+27845556666"]
SECRETS = [VOUCHER_PIN, SUV_CODE, PIN_BLOCK, PIN_BLOCK_ACCOUNT, HASHED_PIN, SA_ID, SA_ID_2,
           PASSPORT, PASSWORD, BASIC, TOKEN, REDEEM_REF, CARD, *MSISDNS]

ORIGINATOR = {"institution": {"id": "1234", "name": "Demo Retailer"}, "terminalId": "TILL0001",
              "merchant": {"merchantType": "5411", "merchantId": "000000000000001"}}

# One sample of every message kind that carries something sensitive (field names from
# electrum/airtime.md §5, money-transfer.md §3.4, topup-and-redemption.md).
MESSAGES: dict[str, dict[str, Any]] = {
    "airtime VoucherResponse": {
        "id": "8d56acbe-70ee-44c9-b6d3-383637ba2e47", "originator": ORIGINATOR,
        "voucher": {"pin": VOUCHER_PIN, "serialNumber": "SN0042", "expiryDate": "2027-01-01"}},
    "airtime PurchaseRequest (direct top-up)": {
        "id": "0f4a6a6e-3b1c-4f7e-9c55-6a1f0e2b7c11", "originator": ORIGINATOR,
        "recipientMsisdn": {"msisdn": MSISDNS[0], "country": "ZA"},
        "senderMsisdn": {"msisdn": MSISDNS[5]}},
    "airtime PurchaseResponse with PIN": {
        "id": "5b0a4f38-6b8f-4a65-8f5f-45e3a8f0a0a1", "msisdn": {"msisdn": MSISDNS[6]},
        "voucher": {"pin": VOUCHER_PIN, "serialNumber": "SN0043"}},
    "airtime loyalty card tender": {
        "id": "6c1d9a0b-7d7e-4c3b-9a7e-1f2e3d4c5b6a",
        "paymentMethods": [{"type": "LOYALTY_CARD", "cardNumber": CARD},
                           {"type": "AN_32_TOKEN", "token": TOKEN}]},
    "moneytransfer createOrder": {
        "id": "7d444840-9dc0-11d1-b245-5ffdce74fad2", "originator": ORIGINATOR,
        "senderDetails": {"firstName": "Joe", "lastName": "Soap", "idNumber": SA_ID,
                          "idType": "NATIONAL_ID", "contactNumber": MSISDNS[1]},
        "recipientDetails": {"idNumber": PASSPORT, "idType": "PASSPORT",
                             "contactNumber": MSISDNS[2], "altContactHome": MSISDNS[3],
                             "altContactWork": MSISDNS[4]},
        "pin": {"pinBlock": PIN_BLOCK, "encryptionParameters": {
            "pinBlockFormat": "ISO_9564_FORMAT_0", "accountNumber": PIN_BLOCK_ACCOUNT,
            "keyIndex": 1}}},
    "moneytransfer createOrder response": {
        "id": "7d444840-9dc0-11d1-b245-5ffdce74fad2", "orderRedeemRef": REDEEM_REF,
        "orderRedeemRefAlt": REDEEM_REF},
    "moneytransfer redeemOrder": {
        "id": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", "orderRedeemRef": REDEEM_REF,
        "pin": {"pinBlock": PIN_BLOCK}, "recipientDetails": {"idNumber": SA_ID_2}},
    "moneytransfer cancelOrder": {
        "id": "2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d", "idNumber": SA_ID, "pin": {"pinBlock": PIN_BLOCK}},
    "suv RedemptionRequest": {
        "id": "ca487760-974c-8313-a27d-1d728c54e6fd",
        "voucher": {"code": SUV_CODE, "pin": {"type": "CLEAR_PIN", "pin": CLEAR_PIN}}},
    "suv hashed pin redemption": {
        "id": "d2f1c1a0-4b3e-4c8e-9f8a-7b6c5d4e3f2a",
        "voucher": {"code": SUV_CODE, "pin": {"type": "HASHED_PIN", "hash": HASHED_PIN}}},
    "switch login": {"username": "1234", "password": PASSWORD,
                           "headers": {"Authorization": f"Basic {BASIC}"}},
}


@pytest.fixture
def configured_log(tmp_path: Path) -> Iterator[Path]:
    """The real set-up (file target) with the process-wide state restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.excepthook, threading.excepthook)
    path = tmp_path / "agent.log"
    handler = setup_logging(LoggingConfig(level="DEBUG", target=str(path)), process="forward")
    yield path
    handler.close()
    root.handlers[:], root.level = saved[0], saved[1]
    sys.excepthook, threading.excepthook = saved[2], saved[3]


def _scan(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_every_message_kind_every_shape_is_masked(configured_log: Path) -> None:
    log = logging.getLogger("terminal_agent.test")
    for kind, message in MESSAGES.items():
        body = json.dumps(message)
        log.info("%s: sent %s", kind, body)  # JSON text through %-args
        log.info(f"{kind}: compact {json.dumps(message, separators=(',', ':'))}")
        log.info("%s: as dict %r", kind, message)  # Python repr of a dict
        log.info("%s: as bytes %r", kind, body.encode())  # repr of the raw HTTP body
        log.info("%s: nested %s", kind, json.dumps({"body": body}))  # escaped JSON in JSON
        log.warning("%s: with extras", kind, extra={"body": message, "raw": body})
        log_event(log, f"{kind}: structured", txn_id=message.get("id"), operation="TEST",
                  outcome="approved", request=body)
        try:
            raise ValueError(f"switch refused {message!r}")
        except ValueError:
            log.exception("%s: failed", kind)
    log.info("GET /moneytransfer/v2/orders?idNumber=%s&senderCell=%s&recipientCell=%s",
             SA_ID, MSISDNS[1], MSISDNS[2])
    log.info("headers=[(b'authorization', b'Basic %s')] to https://1234:%s@switch.example/",
             BASIC, PASSWORD)
    log.info("password=%s token=%s free text: customer %s phone %s block %s",
             PASSWORD, TOKEN, SA_ID, MSISDNS[0], PIN_BLOCK)

    output = configured_log.read_text(encoding="utf-8")
    assert _scan(output) == [], output
    # Masked, not dropped: the records and the non-secret parts are all there.
    assert output.count("Traceback (most recent call last)") == len(MESSAGES)
    assert "SN0042" in output and "txn_id=8d56acbe-70ee-44c9-b6d3-383637ba2e47" in output
    assert "*******4567" in output  # the last 4 digits of the MSISDN stay for support
    assert "ISO_9564_FORMAT_0" in output


def test_exception_chain_and_uncaught_exception_are_masked(configured_log: Path) -> None:
    log = logging.getLogger("terminal_agent.test")

    def deliver() -> None:
        secret_locals = {"pin": VOUCHER_PIN}  # noqa: F841 (a local is not logged, its repr is)
        raise KeyError(json.dumps({"pinBlock": PIN_BLOCK, "idNumber": SA_ID}))

    try:
        try:
            deliver()
        except KeyError as exc:
            raise RuntimeError(f"advice failed for msisdn={MSISDNS[0]}") from exc
    except RuntimeError:
        log.error("chained", exc_info=True, stack_info=True)
        exc_info = sys.exc_info()
    sys.excepthook(*exc_info)  # as an uncaught exception would be reported
    output = configured_log.read_text(encoding="utf-8")
    assert _scan(output) == [], output
    assert "The above exception was the direct cause" in output
    assert "uncaught exception" in output


def test_bad_format_string_does_not_leak_args(configured_log: Path) -> None:
    logging.getLogger("terminal_agent.test").info("pin %s %s", f"pin={VOUCHER_PIN}")
    assert _scan(configured_log.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(("text", "expected"), [
    ('{"pin": "1234"}', '{"pin": "***"}'),
    ("{'voucherPin': 98765}", "{'voucherPin': ***}"),
    ("PinClear(type='CLEAR_PIN', pin='4455')", "PinClear(type='CLEAR_PIN', pin='***')"),
    ('{"msisdn": "27821234567"}', '{"msisdn": "*******4567"}'),
    ("Authorization: Basic dXNlcjpwYXNz", "Authorization: *** ***"),
    ("https://u:p4ss@host/x", "https://u:***@host/x"),
    ("id 8001015009087.", "id ***."),
    ("uuid 123e4567-e89b-12d3-a456-426614174000 at 2019-09-25T09:50:33.000Z amount 2000",
     "uuid 123e4567-e89b-12d3-a456-426614174000 at 2019-09-25T09:50:33.000Z amount 2000"),
    ('{"serialNumber": "SN1", "pinBlockFormat": "ISO_9564_FORMAT_0", "keyIndex": 1}',
     '{"serialNumber": "SN1", "pinBlockFormat": "ISO_9564_FORMAT_0", "keyIndex": 1}'),
])
def test_mask_examples(text: str, expected: str) -> None:
    assert mask(text) == expected
    assert mask(expected) == expected  # idempotent


def test_filter_on_a_bare_handler_masks_extras_and_args() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "pin=%s for %s", (VOUCHER_PIN,
                               MSISDNS[0]), None)
    record.body = {"idNumber": SA_ID}
    assert MaskingFilter().filter(record)
    assert record.getMessage() == "pin=*** for *******4567"
    assert SA_ID not in str(record.body)
