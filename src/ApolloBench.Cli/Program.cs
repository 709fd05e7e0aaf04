return ApolloBench.Cli.CliApp.Run(args);
