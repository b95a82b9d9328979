LmodWarning("this is only a warning")
setenv("CHATTY", "1")
