module_version("foo/1.0", "stable")
