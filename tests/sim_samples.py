"""Valid example messages (plain JSON dicts) for every operation the simulator serves.

For tests, demos and integrators poking at the simulator by hand; the agent itself builds its
messages with ``terminal_agent.protocol.builders``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

CLIENT = {"id": "22222222", "name": "Corner Shop Group"}


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> str:
    t = datetime.now(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "710"}


def originator() -> dict[str, Any]:
    return {
        "institution": {"id": "11111111", "name": "Corner Shop Group"},
        "terminalId": "TILL0001",
        "merchant": {"merchantType": "5411", "merchantId": "CORNERSHOP00001",
                     "merchantName": {"name": "Corner Shop Soweto", "city": "Soweto",
                                      "region": "GP", "country": "ZA"}},
    }


def transaction() -> dict[str, Any]:
    return {"id": new_id(), "time": now(), "originator": originator(), "client": dict(CLIENT),
            "thirdPartyIdentifiers": [{"institutionId": CLIENT["id"],
                                       "transactionIdentifier": "TILL0001-000001"}]}


# -- airtime ----------------------------------------------------------------------------------
def purchase(product_id: str = "VOD10", msisdn: str | None = None,
             amount: int | None = None) -> dict[str, Any]:
    body = transaction()
    body["product"] = {"productId": product_id}
    if amount is not None:
        body["amounts"] = {"requestAmount": money(amount)}
    if msisdn is not None:
        body["recipientMsisdn"] = {"msisdn": msisdn}
    return body


def direct_topup(msisdn: str = "27821234567", amount: int = 2000,
                 product_id: str = "VODDT") -> dict[str, Any]:
    return purchase(product_id, msisdn, amount)


def voucher_request(product_id: str = "MTN29") -> dict[str, Any]:
    body = transaction()
    body["product"] = {"productId": product_id}
    return body


# -- advices ----------------------------------------------------------------------------------
def confirmation(request_id: str, tpis: list[dict[str, Any]] | None = None,
                 amount: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": new_id(), "requestId": request_id, "time": now(),
                            "thirdPartyIdentifiers": tpis or []}
    if amount is not None:
        body["tenders"] = [{"tenderType": "CASH", "amount": money(amount)}]
    return body


def reversal(request_id: str, tpis: list[dict[str, Any]] | None = None,
             reason: str = "TIMEOUT") -> dict[str, Any]:
    return {"id": new_id(), "requestId": request_id, "time": now(),
            "thirdPartyIdentifiers": tpis or [], "reversalReason": reason}


# -- money transfer ---------------------------------------------------------------------------
RECEIVER = {"id": "30000001", "name": "Mukuru Money Transfer"}


def sender(id_number: str = "9001015009087") -> dict[str, Any]:
    return {"firstName": "Thandiwe", "lastName": "Nkosi", "idNumber": id_number,
            "idType": "NATIONAL_ID", "idCountryCode": "ZA", "contactNumber": "27821234567"}


def order(amount: int = 50000, pin_block: str | None = "0412AC89FFEDCBA9",
          id_number: str = "9001015009087") -> dict[str, Any]:
    body = transaction()
    body.update({"receiver": dict(RECEIVER), "amount": money(amount),
                 "senderDetails": sender(id_number), "newCustomer": False,
                 "recipientDetails": {"firstName": "Sipho", "lastName": "Dlamini",
                                      "contactNumber": "27831234567"}})
    if pin_block:
        body["pin"] = {"pinBlock": pin_block,
                       "encryptionParameters": {"accountNumber": "000000123456"}}
    return body


def redemption(order_ref: str, amount: int | None, pin_block: str | None = None) -> dict[str, Any]:
    body = transaction()
    body.update({"receiver": dict(RECEIVER), "orderRedeemRef": order_ref})
    if amount is not None:
        body["amount"] = money(amount)
    if pin_block:
        body["pin"] = {"pinBlock": pin_block,
                       "encryptionParameters": {"accountNumber": "000000123456"}}
    return body


def cancellation(order_ref: str, id_number: str | None = None) -> dict[str, Any]:
    body = transaction()
    body.update({"receiver": dict(RECEIVER), "orderRedeemRef": order_ref})
    if id_number:
        body["idNumber"] = id_number
    return body


def admin_message(id_number: str, profile_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"originator": originator(), "receiver": dict(RECEIVER),
                            "customerDetails": sender(id_number)}
    if profile_id:
        body["customerProfileId"] = profile_id
    return body


def quote_request(amount: int, includes_fees: bool = False) -> dict[str, Any]:
    return {"originator": originator(), "receiver": dict(RECEIVER), "amount": money(amount),
            "amountIncludesFees": includes_fees}


# -- digital vouchers -------------------------------------------------------------------------
def suv_redemption(code: str, amount: int | None = None) -> dict[str, Any]:
    body = transaction()
    body["voucher"] = {"code": code}
    if amount is not None:
        body["amounts"] = {"requestAmount": money(amount)}
    return body
