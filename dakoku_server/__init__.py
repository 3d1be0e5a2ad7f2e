"""The reference attendance server (Recorder API): see docs/server.md."""
