"""Pure rules and value types. No I/O, no Kivy."""
