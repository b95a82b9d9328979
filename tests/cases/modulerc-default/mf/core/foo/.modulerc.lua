module_version("foo/2.0", "default")
