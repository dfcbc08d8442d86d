"""GDPR steps (SPEC 2.4): erasure of due requests, personal data extracts, inactivity deletion.

They are ops, not assets: each run works on requests, and what it changes is the absence of data.
"""
