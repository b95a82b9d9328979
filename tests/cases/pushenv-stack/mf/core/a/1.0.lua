pushenv("CC", "cc-from-a")
