//go:build tools

// Package fabric pins the Fabric command packages built by scripts/fabric-bins.sh.
package fabric

import (
	_ "github.com/hyperledger/fabric-ca/cmd/fabric-ca-client"
	_ "github.com/hyperledger/fabric-ca/cmd/fabric-ca-server"
	_ "github.com/hyperledger/fabric/cmd/configtxgen"
	_ "github.com/hyperledger/fabric/cmd/configtxlator"
	_ "github.com/hyperledger/fabric/cmd/orderer"
	_ "github.com/hyperledger/fabric/cmd/osnadmin"
	_ "github.com/hyperledger/fabric/cmd/peer"
)
