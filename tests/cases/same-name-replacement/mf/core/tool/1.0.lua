setenv("TOOL_V", "1.0")
prepend_path("PATH", "/opt/tool/1.0/bin")
