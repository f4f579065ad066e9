// FerryProviders
