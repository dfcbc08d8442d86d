"""`engage-orders demo`: a seeded retail history posted through the real HTTP API.

`script` turns the sample world (schemas.sample_orders) into the requests an integrator would
have sent up to now, `receipts` adds the receipts of delivered and returned goods, and `posting`
sends them with a progress bar.
"""
