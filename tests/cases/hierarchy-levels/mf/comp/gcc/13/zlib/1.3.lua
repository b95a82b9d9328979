setenv("ZLIB_BUILD", "gcc13")
