package chaincode

// defaultPageSize is the page size of a query that asks for none (the
// configuration, api.ChaincodeConfig, bounds it with MaxPageSize).
const defaultPageSize = 50
