"""The Electrum protocol, sans I/O: wire models (``common``, ``airtime``, ``moneytransfer``,
``suv``), ``codec`` (strict encode, lenient decode), ``operations`` (``Op``, ``SPECS``),
``outcome`` (the classifier) and ``builders`` (requests and advices). Nothing here touches a
socket, an event loop or a database."""
