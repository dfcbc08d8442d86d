"""The ids and moments the examples share, so that they tell one consistent story.

Lena Berg (an invented member, at example.org) orders a rain jacket and two pairs of wool socks
from the Nordvik web shop on 20 November 2025 (WEB-2025-000481, schemas/examples/); the order is
packed, shipped by Budbee and delivered, she gets a receipt, and returns one pair of socks a week
later. Every example that names an id names one of these, so that an integrator can follow one
order from `POST /orders` to her loyalty ledger.
"""

from __future__ import annotations

ORDER_ID = "WEB-2025-000481"
CONTACT_ID = "8d3c6f0a-2b1e-4c7d-9a5f-3e6b8c1d2f40"
EMAIL = "lena.berg@example.org"
UNKNOWN_ID = "4f0b3d6e-9c1a-4e2b-8d7f-2a5c6e8b1d90"
"""An id that names nothing: the error examples ask for it."""

VERSION_TAG = "5b3kN1tq0x9Lz2Qh8c7GVw=="
"""The order's current version (after the delivery change); the action example names it."""
CREATED_VERSION_TAG = "q0dY2m7hFhRvXc1kP4wN8A=="
SHIPPED_VERSION_TAG = "Hk2pL9sW0eXb4R7tQm1cZg=="

CREATE_JOB_ID = "c2f5b0e4-7a91-4d3b-8e6f-1b9a4c7d2e05"
REPLACE_JOB_ID = "3d7e1a9c-2b4f-4e60-8a15-c9f0b6d2e473"
DELETE_JOB_ID = "f4a8c2e6-1d3b-4c59-b7e0-5a2d9c8f1b36"
STATUS_JOB_ID = "6a0d3e8b-5c2f-4b71-9e4a-7f1c8d2b3a96"
DELIVERY_JOB_ID = "e71b9c4a-0d3f-4a2e-b865-2c9f4e7a1d38"
FAILED_JOB_ID = "9b4e2a71-3c8d-4f06-a5b9-0e7d1c6f2a84"
PURCHASE_JOB_ID = "d0e9d3d6-c5ec-4e01-ae47-92f744adf5d2"
RETURN_JOB_ID = "50e0906e-eb17-4848-a7ae-3e4346e6e213"
ARTICLE_JOB_ID = "ed2426a2-cb47-4d5d-b6b7-710711e58a00"
STORE_JOB_ID = "92700eb4-3b88-4d46-9c5e-7302e3f5dd5d"
ACTION_ID = "2a6a84b9-1479-4e18-96a6-374baf841883"
EXTRACT_REQUEST_ID = "2fe5fb9e-4e10-46ed-b861-88443c872904"
ERASURE_REQUEST_ID = "6e448c89-b93e-49ea-84e1-c71ad6e3dfa9"
CONTACT_HASH = "cc06c0e0d49409396e6ecaae7ea0767677fbae75421dbf06fbd625b75c0a49ba"

PURCHASE_RECEIPT_ID = "SE-WEB-2025-000481-1"
RETURN_RECEIPT_ID = "SE-WEB-2025-000481-R1"
SEGMENT_NAME = "ongoing-jackets"

CONTACT_CREATED_AT = "2025-03-02T10:15:44.120833+00:00"
ORDER_LANDED_AT = "2025-11-20T08:41:08.214533Z"
STATUS_LANDED_AT = "2025-11-21T13:02:01.507212Z"
DELIVERY_LANDED_AT = "2025-11-21T13:05:12.880411Z"
RECEIPT_LANDED_AT = "2025-11-22T17:05:03.118274Z"
RETURN_LANDED_AT = "2025-11-29T10:20:04.402917Z"
REGISTERS_LANDED_AT = "2025-11-19T23:00:02.663190Z"
