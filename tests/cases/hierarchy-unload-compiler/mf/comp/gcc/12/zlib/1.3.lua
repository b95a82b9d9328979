setenv("ZLIB_BUILD", "gcc12")
