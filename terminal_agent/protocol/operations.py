"""Every operation the agent speaks: method, full path template, models, kind and success codes.

``kind`` says how an answer is read (see ``outcome``): ``request`` needs an answer before the till
goes on, ``advice`` is store-and-forward, ``lookup`` and ``admin`` are reads that are simply
re-sent until an answer comes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import quote, unquote

from terminal_agent.protocol import airtime as at
from terminal_agent.protocol import common as cm
from terminal_agent.protocol import moneytransfer as mt
from terminal_agent.protocol import suv

Kind = Literal["request", "advice", "lookup", "admin"]

AIRTIME = "/airtime/v5"
MONEYTRANSFER = "/moneytransfer/v2"
SUV = "/suv/v1"


class Op(StrEnum):
    VOUCHER_PROVISION = "VOUCHER_PROVISION"
    VOUCHER_CONFIRM = "VOUCHER_CONFIRM"
    VOUCHER_REVERSE = "VOUCHER_REVERSE"
    PURCHASE = "PURCHASE"
    PURCHASE_TRIAL = "PURCHASE_TRIAL"
    PURCHASE_CONFIRM = "PURCHASE_CONFIRM"
    PURCHASE_REVERSE = "PURCHASE_REVERSE"
    PURCHASE_STATUS = "PURCHASE_STATUS"
    MSISDN_LOOKUP = "MSISDN_LOOKUP"
    LIST_PRODUCTS = "LIST_PRODUCTS"
    MT_CUSTOMER_UPSERT = "MT_CUSTOMER_UPSERT"
    MT_CUSTOMER_INFO = "MT_CUSTOMER_INFO"
    MT_FEE_QUOTE = "MT_FEE_QUOTE"
    MT_FEE_QUOTE_POST = "MT_FEE_QUOTE_POST"
    MT_EXCHANGE_RATE = "MT_EXCHANGE_RATE"
    MT_ORDER_CREATE = "MT_ORDER_CREATE"
    MT_ORDER_CONFIRM = "MT_ORDER_CONFIRM"
    MT_ORDER_REVERSE = "MT_ORDER_REVERSE"
    MT_ORDER_LOOKUP = "MT_ORDER_LOOKUP"
    MT_REDEEM = "MT_REDEEM"
    MT_REDEEM_CONFIRM = "MT_REDEEM_CONFIRM"
    MT_REDEEM_REVERSE = "MT_REDEEM_REVERSE"
    MT_ORDER_CANCEL = "MT_ORDER_CANCEL"
    MT_ORDER_CANCEL_REVERSE = "MT_ORDER_CANCEL_REVERSE"
    SUV_LOOKUP = "SUV_LOOKUP"
    SUV_REDEEM = "SUV_REDEEM"
    SUV_REDEEM_CONFIRM = "SUV_REDEEM_CONFIRM"
    SUV_REDEEM_REVERSE = "SUV_REDEEM_REVERSE"
    SUV_REDEEM_STATUS = "SUV_REDEEM_STATUS"
    SUV_PROVISION = "SUV_PROVISION"
    SUV_PROVISION_CONFIRM = "SUV_PROVISION_CONFIRM"
    SUV_PROVISION_REVERSE = "SUV_PROVISION_REVERSE"
    SUV_REFUND = "SUV_REFUND"
    SUV_REFUND_CONFIRM = "SUV_REFUND_CONFIRM"
    SUV_REFUND_REVERSE = "SUV_REFUND_REVERSE"


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    required: bool = False
    pattern: str | None = None


@dataclass(frozen=True, slots=True)
class OpSpec:
    """One operation. ``success`` holds every 2xx the interface declares (or a real server sends);
    ``status`` is the one a well-behaved server answers with (the simulator's choice)."""

    op: Op
    interface: Literal["airtime", "moneytransfer", "suv"]
    method: Literal["GET", "POST"]
    path: str
    request: type[Any] | None
    response: Any
    kind: Kind
    success: frozenset[int]
    status: int
    query: tuple[QueryParam, ...] = ()
    path_params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", tuple(re.findall(r"\{(\w+)\}", self.path)))

    def render_path(self, **params: str) -> str:
        """The concrete path, e.g. ``/airtime/v5/vouchers/<id>``; every placeholder is needed."""
        missing = [p for p in self.path_params if p not in params]
        if missing:
            raise KeyError(f"{self.op}: missing path parameter(s) {', '.join(missing)}")
        return self.path.format(**{k: quote(str(v), safe="") for k, v in params.items()})


def _spec(op: Op, method: Any, path: str, request: Any, response: Any, kind: Kind,
          success: tuple[int, ...], query: tuple[QueryParam, ...] = ()) -> OpSpec:
    interface: Any = {AIRTIME: "airtime", MONEYTRANSFER: "moneytransfer", SUV: "suv"}[
        "/" + "/".join(path.split("/")[1:3])
    ]
    return OpSpec(op, interface, method, path, request, response, kind, frozenset(success),
                  success[0], query)


Q = QueryParam
_MERCHANT_Q = r"[ A-Za-z0-9]{1,15}"

_SPEC_LIST = [
    # airtime v5 -------------------------------------------------------------------------------
    _spec(Op.VOUCHER_PROVISION, "POST", f"{AIRTIME}/vouchers/{{requestId}}",
          at.VoucherRequest, at.VoucherResponse, "request", (201, 200)),
    _spec(Op.VOUCHER_CONFIRM, "POST",
          f"{AIRTIME}/vouchers/{{requestId}}/confirmations/{{confirmationId}}",
          at.VoucherConfirmation, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.VOUCHER_REVERSE, "POST", f"{AIRTIME}/vouchers/{{requestId}}/reversals/{{reversalId}}",
          cm.BasicReversal, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.PURCHASE, "POST", f"{AIRTIME}/purchases",
          at.PurchaseRequest, at.PurchaseResponse, "request", (201, 200)),
    _spec(Op.PURCHASE_TRIAL, "POST", f"{AIRTIME}/purchases/trials",
          at.PurchaseRequest, at.PurchaseResponse, "request", (200, 201)),
    _spec(Op.PURCHASE_CONFIRM, "POST", f"{AIRTIME}/purchases/confirmations",
          at.PurchaseConfirmation, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.PURCHASE_REVERSE, "POST", f"{AIRTIME}/purchases/reversals",
          at.PurchaseReversal, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.PURCHASE_STATUS, "GET", f"{AIRTIME}/purchases/status",
          None, at.PurchaseResponse, "lookup", (200, 202),
          (Q("provider"), Q("purchaseReference"), Q("originalMsgId"))),
    _spec(Op.MSISDN_LOOKUP, "GET", f"{AIRTIME}/msisdn", None, at.MsisdnInfoResponse, "lookup",
          (200, 202), (Q("msisdn", True, r"\+?[1-9]\d{1,14}"), Q("operator"), Q("productType"),
                       Q("channelName"), Q("productCategory"))),
    _spec(Op.LIST_PRODUCTS, "GET", f"{AIRTIME}/products", None, list[at.Product], "lookup",
          (200,), (Q("channelName", True),)),
    # money transfer v2 ------------------------------------------------------------------------
    _spec(Op.MT_CUSTOMER_UPSERT, "POST", f"{MONEYTRANSFER}/admin/customers",
          mt.MoneyTransferAdminMessage, mt.MoneyTransferAdminMessage, "admin", (201, 200)),
    _spec(Op.MT_CUSTOMER_INFO, "GET", f"{MONEYTRANSFER}/admin/customers",
          None, mt.MoneyTransferAdminMessage, "admin", (200,),
          (Q("idNumber", True), Q("idType"), Q("idCountryCode", False, "[A-Za-z]{2}"),
           Q("merchantId", False, _MERCHANT_Q), Q("originatorInstId"), Q("receiverId", True))),
    _spec(Op.MT_FEE_QUOTE, "GET", f"{MONEYTRANSFER}/admin/fees",
          None, mt.MoneyTransferFeeQuote, "admin", (200,),
          (Q("amount", True, r"[0-9]+"), Q("amountIncludesFee", True, "true|false"),
           Q("idNumber"), Q("merchantId", False, _MERCHANT_Q), Q("originatorInstId", True),
           Q("receiverId", True), Q("senderCell", False, r"\+?[1-9]\d{1,14}"),
           Q("recipientCell", False, r"\+?[1-9]\d{1,14}"))),
    _spec(Op.MT_FEE_QUOTE_POST, "POST", f"{MONEYTRANSFER}/admin/fees",
          mt.MoneyTransferQuoteRequest, mt.MoneyTransferFeeQuote, "admin", (200,)),
    _spec(Op.MT_EXCHANGE_RATE, "GET", f"{MONEYTRANSFER}/admin/exchangerate",
          None, mt.MoneyTransferExchangeRateResponse, "admin", (200,),
          (Q("fromCurrency", True, "[0-9]{3}"), Q("toCurrency", True, "[0-9]{3}"),
           Q("receiverId"), Q("settlementEntity"))),
    _spec(Op.MT_ORDER_CREATE, "POST", f"{MONEYTRANSFER}/orders",
          mt.MoneyTransferAuthRequest, mt.MoneyTransferAuthResponse, "request", (201, 200)),
    _spec(Op.MT_ORDER_CONFIRM, "POST", f"{MONEYTRANSFER}/orders/confirmations",
          mt.MoneyTransferConfirmation, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.MT_ORDER_REVERSE, "POST", f"{MONEYTRANSFER}/orders/reversals",
          mt.MoneyTransferReversal, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.MT_ORDER_LOOKUP, "GET", f"{MONEYTRANSFER}/orders",
          None, mt.MoneyTransferLookupResponse, "lookup", (200,),
          (Q("orderRedeemRef"), Q("merchantId", False, _MERCHANT_Q), Q("originatorInstId"),
           Q("receiverId", True), Q("settlementEntityId"), Q("remittanceRef"))),
    _spec(Op.MT_REDEEM, "POST", f"{MONEYTRANSFER}/orders/redemptions",
          mt.MoneyTransferRedeemRequest, mt.MoneyTransferRedeemResponse, "request", (201, 200)),
    _spec(Op.MT_REDEEM_CONFIRM, "POST", f"{MONEYTRANSFER}/orders/redemptions/confirmations",
          mt.MoneyTransferConfirmation, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.MT_REDEEM_REVERSE, "POST", f"{MONEYTRANSFER}/orders/redemptions/reversals",
          mt.MoneyTransferReversal, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.MT_ORDER_CANCEL, "POST", f"{MONEYTRANSFER}/orders/cancel",
          mt.MoneyTransferOrderCancelRequest, mt.MoneyTransferOrderCancelResponse, "request",
          (200, 201)),
    _spec(Op.MT_ORDER_CANCEL_REVERSE, "POST", f"{MONEYTRANSFER}/orders/cancel/reversals",
          mt.MoneyTransferCancelOrderReversal, cm.BasicAdviceResponse, "advice", (202, 200)),
    # SUV v1 -----------------------------------------------------------------------------------
    _spec(Op.SUV_LOOKUP, "GET", f"{SUV}/vouchers", None, suv.VoucherLookupResponse, "lookup",
          (200, 202), (Q("voucherCode"), Q("provisionRequestId"), Q("receiverInstId"),
                       Q("settlementEntityInstId"), Q("voucherSerialNumber"))),
    _spec(Op.SUV_REDEEM, "POST", f"{SUV}/redemptions",
          suv.RedemptionRequest, suv.RedemptionResponse, "request", (201, 200)),
    _spec(Op.SUV_REDEEM_CONFIRM, "POST", f"{SUV}/redemptions/confirmations",
          cm.BasicAdvice, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.SUV_REDEEM_REVERSE, "POST", f"{SUV}/redemptions/reversals",
          cm.BasicReversal, cm.BasicAdviceResponse, "advice", (202, 200)),
    # The outcome of an earlier redemption: the original answer (200 or its ErrorDetail), 102
    # still processing, 403 not this client's, 404 never received.
    _spec(Op.SUV_REDEEM_STATUS, "GET", f"{SUV}/redemptions/{{requestId}}",
          None, suv.RedemptionResponse, "lookup", (200,)),
    _spec(Op.SUV_PROVISION, "POST", f"{SUV}/vouchers",
          suv.ProvisionRequest, suv.ProvisionResponse, "request", (201, 200)),
    _spec(Op.SUV_PROVISION_CONFIRM, "POST", f"{SUV}/vouchers/confirmations",
          suv.ProvisionConfirmation, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.SUV_PROVISION_REVERSE, "POST", f"{SUV}/vouchers/reversals",
          cm.BasicReversal, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.SUV_REFUND, "POST", f"{SUV}/refunds",
          suv.RefundRequest, suv.RefundResponse, "request", (201, 200)),
    _spec(Op.SUV_REFUND_CONFIRM, "POST", f"{SUV}/refunds/confirmations",
          cm.BasicAdvice, cm.BasicAdviceResponse, "advice", (202, 200)),
    _spec(Op.SUV_REFUND_REVERSE, "POST", f"{SUV}/refunds/reversals",
          cm.BasicReversal, cm.BasicAdviceResponse, "advice", (202, 200)),
]

SPECS: dict[Op, OpSpec] = {s.op: s for s in _SPEC_LIST}


def _template_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", path)
    body = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(body + "/?")


_MATCHERS = [(s.method, _template_regex(s.path), s.op) for s in _SPEC_LIST]


def match_path(method: str, path: str) -> tuple[Op, dict[str, str]] | None:
    """The operation a server-side ``(method, concrete path)`` belongs to, with its path ids.

    A trailing slash is tolerated (the Java ``FULL_PATH`` constants end in ``/``); the query
    string, if any, must already be stripped.
    """
    for m, regex, op in _MATCHERS:
        found = regex.fullmatch(path)
        if m == method.upper() and found:
            return op, {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def path_exists(path: str) -> bool:
    """Whether any method is served at ``path`` (a server answers 405 rather than 404 then)."""
    return any(regex.fullmatch(path) for _, regex, _ in _MATCHERS)
