// The benchmark's peer: Benthos v4.27.0 (MIT) with only the components
// bench/peer.ts configures (aws_s3 input with SQS, opensearch output and the
// pure processors). Built by bench/lib/peer-build.ts into .cache/peer/.
package main

import (
	"context"

	"github.com/benthosdev/benthos/v4/public/service"

	_ "github.com/benthosdev/benthos/v4/public/components/aws"
	_ "github.com/benthosdev/benthos/v4/public/components/io"
	_ "github.com/benthosdev/benthos/v4/public/components/opensearch"
	_ "github.com/benthosdev/benthos/v4/public/components/pure"
)

func main() {
	service.RunCLI(context.Background())
}
