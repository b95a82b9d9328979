setenv("OLD", "1")
prepend_path("PATH", "/opt/old/bin")
