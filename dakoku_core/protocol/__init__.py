"""What the kiosk and the reference server share: the connection string, the recorder certificate,
request signing, the error body and the JSON schemas of the Recorder API payloads.

Nothing here imports Kivy, Flask or peewee; ``requests`` is used only by :mod:`dakoku_core.protocol.client`.
"""
