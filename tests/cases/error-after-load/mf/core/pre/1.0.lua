setenv("PRE_V", "1.0")
prepend_path("PATH", "/opt/pre/1.0/bin")
