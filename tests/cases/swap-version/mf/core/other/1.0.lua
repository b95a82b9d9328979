setenv("OTHER_V", "1.0")
prepend_path("PATH", "/opt/other/1.0/bin")
