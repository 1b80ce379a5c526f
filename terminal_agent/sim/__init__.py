"""The Electrum switch simulator: the server side of airtime v5, money transfer v2 and SUV v1.

Run it with ``terminal-agent sim`` or in-process with ``SimServer``. Its state (what it approved,
the advices it received) lives in memory, or in SQLite with ``--state`` so that it survives a
SIGKILL. Control endpoints: ``GET /_sim/health``, ``GET /_sim/ledger``,
``GET|POST|DELETE /_sim/faults`` (see ``terminal_agent.sim.faults``), ``POST /_sim/reset``.

Deterministic business rules (no fault needed to trigger a decline):

Airtime (vouchers, purchases, trials)
  - productId ``OUTOFSTOCK`` → 400 ``OUT_OF_STOCK``; ``INVALIDPRODUCT`` → 400 ``INVALID_PRODUCT``;
    ``NOTRIAL`` → the trial answers 400 ``FUNCTION_NOT_SUPPORTED`` (the purchase is approved).
  - recipient MSISDN ``27000000000`` → 400 ``INVALID_MSISDN`` (also on the MSISDN lookup); a
    direct top-up to a number of another operator than the product's → 400 ``INVALID_MSISDN``.
  - amount (``amounts.requestAmount``, else the product's face value) ending in 13 cents →
    400 ``INSUFFICIENT_FUNDS``; ≤ 0 → 400 ``INVALID_AMOUNT``; over R1000.00 → 400
    ``LIMIT_EXCEEDED``. A variable product without a requested amount, or a direct top-up
    without ``recipientMsisdn``, is a 400 ``FORMAT_ERROR``.
  - direct top-up purchase to an MSISDN ending ``0404`` → 504 ``OUTCOME_UNKNOWN``; the first
    status lookup answers 504 ``OUTCOME_UNKNOWN`` again, the 2nd the approved PurchaseResponse.
    Ending ``0505`` → the same, but the 2nd lookup answers 400 ``DECLINED_BY_MNO``.
  - PIN products (``isDirectTopup`` false, and unknown products) get a voucher with a 16-digit
    PIN, serial, batch and an expiry a year ahead; direct top-ups get no voucher.
  - MSISDN lookup: ``27`` + 9 digits; the operator is found by prefix (Vodacom 60 66 71 72 76 79
    82, MTN 63 73 78 83, Cell C 62 64 74 84, Telkom 61 67 68 81), else by the ``operator`` hint;
    any other well-formed number answers its info and no products (as Electrum's test server).
  - Products: 8 per operator (R10/R29/R55/R110 PIN airtime, a variable direct top-up, data, SMS),
    ids like ``VOD10``, ``MTN29``, ``CLCDT``, ``TKM1GB``.

Money transfer
  - createOrder amount ≤ 0 → ``INVALID_AMOUNT``; over R10000.00 → ``MONTHLY_LIMIT_EXCEEDED``;
    over R5000.00 → ``DAILY_LIMIT_EXCEEDED``; ending in 13 cents → ``TRANSACTION_DECLINED``;
    sender idNumber ``0000000000000`` → ``CUSTOMER_CHECK_FAILED`` (also on customer upsert).
    ``newCustomer`` true registers the sender; a ``customerProfileId`` is taken as sent.
  - createOrUpdateCustomer creates a profile, or updates the one named by ``customerProfileId``
    or, without one, the one with the same idNumber (200).
  - An order is redeemable once confirmed; lookups say ``UNCONFIRMED`` before, ``UNREDEEMED``
    after, ``CANCELLED`` after a reversal or an approved cancellation, ``REDEEMED`` after an
    approved redemption (pending or confirmed); a reversed redemption or cancellation makes it
    ``UNREDEEMED`` again.
  - Redeem: unknown reference → ``INVALID_REDEEM_REF``; paid out → ``ALREADY_REDEEMED``; not
    redeemable → ``UNABLE_TO_REDEEM``; amount ≠ order amount → ``INVALID_AMOUNT``; wrong PIN
    block (when the order has one) → ``INCORRECT_PIN``, and after 3 wrong PINs every attempt →
    ``PIN_RETRIES_EXCEEDED``. No amount pays the order's amount. Cancel: unknown → 404, paid
    out → ``ALREADY_REDEEMED``, an ``idNumber`` other than the sender's →
    ``CUSTOMER_CHECK_FAILED``.
  - Demo orders ready for payout (no PIN): ``48203917562038174501`` (R500.00) and ``...502``
    (R1200.00); ``...503`` is REDEEMED, ``...504`` CANCELLED, ``...505`` ON_HOLD.
  - Demo customers: idNumber ``9001015009087`` (profile ``1000000001``), ``8505055800083``
    (``1000000002``), passport ``FN1234567`` (``1000000003``). Fees: R15 up to R500, R25 up to
    R1000, R45 up to R2000, then 2.5 %. Exchange rates from ZAR (710) to NAD, LSL, SZL, BWP,
    ZMW, MWK, MZN, GHS, USD, GBP, EUR.

Digital vouchers (SUV): the whole interface (see ``suv``)
  - ``1234567890123456`` R100.00, ``5000111122223333`` R50.00, ``2500999988887777`` R250.00,
    ``8000000000000000`` already redeemed (``VOUCHER_ALREADY_REDEEMED``), ``9000000000000001``
    expired (``VOUCHER_NOT_REDEEMABLE``); any code ``DV<cents>`` (e.g. ``DV5000``) is a fresh
    voucher worth that many cents. Unknown code → lookup 404, redeem 400 ``INVALID_VOUCHER``.
  - Redeem more than the balance → ``INSUFFICIENT_AMOUNT``; amount ending in 13 cents →
    ``INSUFFICIENT_FUNDS``; no requested amount redeems the whole balance. A reversal gives the
    value back.
  - Provision: products ``BLU50``, ``BLU100``, ``OTT250`` (fixed value) and ``1VOUCHER`` (any
    value, from ``amounts.requestAmount``); without a product the requested amount is the value.
    No value, a value that is not the product's, ≤ 0 or over R5000.00 → ``INVALID_AMOUNT``;
    ending in 13 cents → ``DO_NOT_HONOUR``; a client-chosen ``voucher.code`` that exists →
    ``VOUCHER_ALREADY_PROVISIONED``. The voucher is redeemable once the provision is confirmed.
  - Refund: of a confirmed redemption, once, at most its amount; the value is usable again when
    the refund is confirmed. ``GET /redemptions/{requestId}`` answers the original answer again.

Validation is Electrum's own, not the agent's (see ``validation``): the required fields, lengths,
patterns and enums of the interface definitions, cascading only where Electrum's models do; so
any string is a message id (no UUID v4 rule), any RFC 3339 date-time a ``time``, unknown fields
are ignored and optional fields may be null.

Common to all (see ``engine``): 400 ``FORMAT_ERROR`` naming the field, ``DUPLICATE_RECORD`` for
a reused id, advices for unknown originals 404 (a reversal then kills the id), repeated advices
202 again; a late original, and an advice that comes the other way round (confirm after
reverse, reverse after confirm), get each interface's own type: airtime
``ACCOUNT_ALREADY_SETTLED``; money transfer ``DUPLICATE_RECORD`` for orders,
``UNABLE_TO_REDEEM`` / ``ALREADY_REDEEMED`` for redemptions (as its test server); SUV
``VOUCHER_``, ``REDEMPTION_``, ``REFUND_ALREADY_CONFIRMED`` / ``_REVERSED``.

Lenient where the references are silent (a refusal the references do not describe is not
invented): a ``customerProfileId`` not on file, or one whose idNumber differs from the sender's,
is accepted on createOrder; an upsert with no details at all creates an empty profile; a
createOrder without ``newCustomer``, a redeemOrder without ``amount`` (the order's amount) and a
POST fee quote without ``amountIncludesFees`` (false) are accepted; an unknown SUV product with a
requested amount is provisioned for that amount; a status lookup of a reversed SUV redemption
answers its original answer. A null inside an array is skipped, as Java does.
"""

from terminal_agent.sim.app import build_app
from terminal_agent.sim.options import SimOptions
from terminal_agent.sim.server import SimServer

__all__ = ["SimOptions", "SimServer", "build_app"]
