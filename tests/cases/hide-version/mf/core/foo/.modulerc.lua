hide_version("foo/3.0")
