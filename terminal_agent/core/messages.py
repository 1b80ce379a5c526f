"""One plain sentence per switch answer, telling the cashier what to do next."""

from __future__ import annotations

DECLINE_SENTENCES: dict[str, str] = {
    "DUPLICATE_RECORD": "The switch has already seen this transaction. Start a new sale.",
    "FORMAT_ERROR": "The switch rejected the request format. Call support; do not retry.",
    "FUNCTION_NOT_SUPPORTED": "This service is not offered for this product. Choose another.",
    "GENERAL_ERROR": "The switch declined the request. Try again in a moment.",
    "INVALID_AMOUNT": "That amount is not allowed for this product. Change the amount.",
    "ROUTING_ERROR": "The provider cannot be reached through the switch. Call support.",
    "TRANSACTION_NOT_SUPPORTED": "This transaction is not supported for this product.",
    "UNABLE_TO_LOCATE_RECORD": "The switch could not find that record. Check the reference.",
    "UPSTREAM_UNAVAILABLE": "The provider is unavailable. Nothing was charged; try again later.",
    "INVALID_PRODUCT": "That product is not available. Choose another product.",
    "ACCOUNT_ALREADY_SETTLED": "This transaction was already settled. Do not hand over value.",
    "INVALID_MERCHANT": "This till is not set up with the provider. Call support.",
    "OUT_OF_STOCK": "The provider is out of stock for this product. Choose another product.",
    "INVALID_AN32_TOKEN": "The token is invalid. Ask the customer to check it.",
    "DO_NOT_HONOR": "The provider declined the transaction. Ask the customer for another option.",
    "DECLINED_BY_MNO": "The network declined the transaction. Ask the customer to contact them.",
    "INVALID_MSISDN": "The phone number is not valid for this network. Check the number.",
    "INVALID_LOYALTY_CARD": "The loyalty card is not valid. Ask for another card.",
    "INSUFFICIENT_FUNDS": "Insufficient funds. Ask the customer for another payment method.",
    "INVALID_CARD_NUMBER": "The card number is not valid. Check it and try again.",
    "CARD_EXPIRED": "The card has expired. Ask for another card.",
    "INCORRECT_PIN": "The PIN is incorrect. Ask the customer to try again.",
    "PIN_ATTEMPTS_EXCEEDED": "Too many PIN attempts. Do not retry with this card or order.",
    "OUTCOME_UNKNOWN": "The provider did not give a final answer. Do not hand over value.",
    "SYSTEM_MALFUNCTION": "The switch had a fault. Try again in a moment.",
    "LIMIT_EXCEEDED": "A limit was reached for this customer. The sale cannot go ahead.",
    "NOT_IMPLEMENTED": "The provider does not offer this service.",
    "SWITCH_UNREACHABLE": "The switch could not be reached. Nothing was charged; try again in "
                          "a moment.",
    # money transfer and voucher redemption
    "ORDER_NOT_FOUND": "No order matches that reference. Check the reference and PIN.",
    "ORDER_ALREADY_REDEEMED": "That order was already paid out. Do not pay out.",
    "INVALID_PIN": "The PIN does not match. Ask the recipient to check it.",
    "VOUCHER_ALREADY_REDEEMED": "The voucher was already used. Do not accept it.",
    "VOUCHER_ALREADY_CONFIRMED": "The voucher was already used. Do not accept it.",
    "VOUCHER_EXPIRED": "The voucher has expired. Do not accept it.",
    "INVALID_VOUCHER": "The voucher code is not valid. Check the code.",
    "INVALID_ID_NUMBER": "The ID number is not valid. Check the customer's document.",
    "CUSTOMER_NOT_FOUND": "No customer with those details. Register the customer first.",
}

# Where an interface words an errorType its own way (or has its own types).
INTERFACE_SENTENCES: dict[str, dict[str, str]] = {
    "moneytransfer": {
        "ALREADY_REDEEMED": "That order was already paid out. Do not pay out.",
        "PIN_RETRIES_EXCEEDED": "Too many wrong PINs: the order is locked. The customer must "
                                "contact the provider.",
        "INCORRECT_PIN": "The PIN is incorrect. Ask the recipient to enter it again.",
        "UNABLE_TO_REDEEM": "This order cannot be paid out. The customer must contact the provider.",
        "INVALID_REDEEM_REF": "That order reference is not valid. Ask the customer to check it.",
        "DAILY_LIMIT_EXCEEDED": "The customer's daily limit is reached. Try a smaller amount or "
                                "another day.",
        "MONTHLY_LIMIT_EXCEEDED": "The customer's monthly limit is reached. The order cannot go ahead.",
        "TRANSACTION_LIMIT_EXCEEDED": "The amount is above the limit for one transfer. Try a "
                                      "smaller amount.",
        "CUSTOMER_CHECK_FAILED": "The customer check failed. Check the ID and profile, or register "
                                 "the customer.",
        "PROVIDER_SYSTEM_ERROR": "The provider had a fault. Try again later as a new transaction.",
        "TRANSACTION_DECLINED": "The provider declined the transaction. Tell the customer.",
        "AUTHENTICATION_ERROR": "The switch refused this till's credentials. Call support.",
        "TRANSACTION_NOT_ALLOWED_FOR_MERCHANT": "This till is not set up with the provider. "
                                                "Call support.",
    },
    "suv": {
        "INSUFFICIENT_AMOUNT": "The voucher's balance is too low. Redeem a smaller amount.",
        "VOUCHER_NOT_REDEEMABLE": "This voucher cannot be used (expired or not active). "
                                  "Ask for another payment.",
        "VOUCHER_STATUS_UNKNOWN": "The issuer cannot say whether the voucher is valid. "
                                  "Ask for another payment.",
        "REDEMPTION_ALREADY_REVERSED": "This redemption was already reversed. Start again.",
        "DO_NOT_HONOUR": "The issuer declined the voucher. Ask for another payment.",
        "INSUFFICIENT_FUNDS": "The issuer declined the voucher. Ask for another payment.",
    },
}

GENERIC_DECLINE = "The switch declined the request. Tell the customer it did not go through."

UNKNOWN_SENTENCE = {
    "voucher_sale": ("No answer from the switch. The till reverses the sale by itself (it keeps "
                     "sending the reversal until the switch takes it). Do not hand over airtime."),
    "mt_send": ("No answer from the switch. The till reverses the order by itself. Do not take "
                "the cash; you can retry as a new order."),
    "mt_payout": ("No answer from the switch. The till reverses the payout by itself. Do not "
                  "hand over cash; you can retry."),
    "suv_redeem": ("No answer from the switch. The till reverses the redemption by itself. Do "
                   "not accept the voucher as payment."),
    "topup": ("No final answer yet. The till keeps asking the switch; do not give a refund "
              "or a second top-up until it settles."),
}

# Said once the reversal of a sale with no answer is delivered (the switch took it).
REVERSAL_DONE = "The switch has taken the reversal: nothing was charged."


def decline_sentence(error_type: str | None, interface: str | None = None) -> str:
    """The cashier's sentence for a decline, in the words of ``interface`` where it has its own."""
    key = error_type or ""
    own = INTERFACE_SENTENCES.get(interface or "", {})
    return own.get(key) or DECLINE_SENTENCES.get(key, GENERIC_DECLINE)

# An approved sale reversed behind the cashier before the tender was recorded (its deadline ran
# out, or a supervisor cancelled it): what to do with value or cash that may already have moved.
REVERSED_BEFORE_TENDER = {
    "voucher_sale": ("This sale was reversed before the payment was recorded (time ran out or a "
                     "supervisor cancelled it). Do not hand over the voucher; give back any cash "
                     "you took for it."),
    "mt_send": ("This order was reversed before the cash was recorded. Give back any cash you "
                "took; start a new order if the customer still wants to send."),
    "mt_payout": ("This payout was reversed before it was recorded. Do not pay out; if you "
                  "already handed over cash, call a supervisor now."),
    "suv_redeem": ("This redemption was reversed before the sale completed. The voucher keeps "
                   "its value; take payment another way."),
    "topup": "This top-up was reversed. Do not give airtime; give back any cash you took.",
}


# Why a paid top-up failed, in the customer's words (the refund slip): never a cashier's task.
CUSTOMER_REASONS: dict[str, str] = {
    "INVALID_MSISDN": "the phone number is not valid for this network",
    "DECLINED_BY_MNO": "the network declined it",
    "OUT_OF_STOCK": "the product is out of stock",
    "INVALID_PRODUCT": "the product is not available",
    "LIMIT_EXCEEDED": "a limit was reached for this number",
    "INVALID_AMOUNT": "the amount is not allowed for this product",
}

# Declines that a registered customer would not get: the UI leads the cashier to registration.
REGISTER_FIRST = frozenset({"CUSTOMER_NOT_FOUND", "CUSTOMER_CHECK_FAILED"})


def refund_reason(error_type: str | None) -> str:
    """The refund slip's reason for a top-up that failed after the customer paid."""
    why = CUSTOMER_REASONS.get(error_type or "", "the network could not complete it")
    return f"The top-up could not be made ({why}). Nothing was loaded on the phone."


def needs_registration(error_type: str | None) -> bool:
    return (error_type or "") in REGISTER_FIRST
