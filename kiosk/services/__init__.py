"""Use cases (punch, register, data update, sync, diagnose). They call ports, never Kivy."""
