setenv("SITE_SEEN", os.getenv("SITE_NAME") or "none")
prepend_path("PATH", "/opt/site/bin")
