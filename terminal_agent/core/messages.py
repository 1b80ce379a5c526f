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

GENERIC_DECLINE = "The switch declined the request. Tell the customer it did not go through."

UNKNOWN_SENTENCE = {
    "voucher_sale": ("No answer from the switch. The sale was reversed automatically. "
                     "Do not hand over airtime."),
    "mt_send": ("No answer from the switch. The order was reversed automatically. "
                "Do not take the cash; you can retry as a new order."),
    "mt_payout": ("No answer from the switch. The payout was reversed automatically. "
                  "Do not hand over cash; you can retry."),
    "suv_redeem": ("No answer from the switch. The redemption was reversed automatically. "
                   "Do not accept the voucher as payment."),
    "topup": ("No final answer yet. The till keeps asking the switch; do not give a refund "
              "or a second top-up until it settles."),
}


def decline_sentence(error_type: str | None) -> str:
    return DECLINE_SENTENCES.get(error_type or "", GENERIC_DECLINE)
