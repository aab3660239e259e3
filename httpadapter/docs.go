package httpadapter

func docsRoutes() []route { return nil }
