module_alias("oldfoo", "foo/1.0")
