package httpadapter

func adminToolRoutes() []route { return nil }
