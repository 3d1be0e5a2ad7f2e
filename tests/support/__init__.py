"""Test support shared by the test tiers and the benchmarks: the real peers a test talks to (the reference server
in a subprocess, an SNTP responder) and a recorder's provisioning texts. One home, so that a fix to how a server
is waited for or stopped lands everywhere at once. Nothing here imports Kivy or pytest."""
