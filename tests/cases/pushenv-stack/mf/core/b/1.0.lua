pushenv("CC", "cc-from-b")
