import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ses from 'aws-cdk-lib/aws-ses';
import type { Construct } from 'constructs';
import type { Settings } from './app.ts';

export interface StatefulStackProps extends StackProps {
  settings: Settings;
}

/**
 * What must survive a redeploy: the one table (the record is the truth) and the SES sending identity. Kept
 * apart from the stateless stack so functions and workflows can be replaced, or the stack destroyed and
 * recreated, without touching data.
 */
export class StatefulStack extends Stack {
  readonly table: dynamodb.Table;
  /** The table's GSIs: grants name them instead of a `table/index/*` wildcard. */
  readonly indexNames: readonly string[] = ['GSI1', 'GSI2'];
  readonly emailIdentity: ses.EmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { settings } = props;

    // No tableName: a fixed physical name blocks replacement and a second installation in the same account.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'SK', type: dynamodb.AttributeType.STRING },
      // A county's duties make a few thousand writes a day in bursts: on-demand costs nothing when idle.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only idempotency records carry expiresAt (epoch seconds): DynamoDB deletes them for free once expired.
      timeToLiveAttribute: 'expiresAt',
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
    for (const indexName of this.indexNames) {
      this.table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: `${indexName}PK`, type: dynamodb.AttributeType.STRING },
        sortKey: { name: `${indexName}SK`, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      // TLS stays OPTIONAL (the default): some township mail servers still lack STARTTLS, and an undelivered
      // reminder is the worse failure here.
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });

    // A domain identity (Easy DKIM) lets any address of the domain send and signs mail, which mailbox
    // providers want; an address identity needs no DNS access, only a click on the verification mail.
    const identity =
      settings.senderIdentity === 'domain'
        ? ses.Identity.domain(settings.senderDomain)
        : ses.Identity.email(settings.senderAddress);
    this.emailIdentity = new ses.EmailIdentity(this, 'SenderIdentity', {
      identity,
      configurationSet: this.configurationSet,
      ...(settings.senderIdentity === 'domain'
        ? { dkimIdentity: ses.DkimIdentity.easyDkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT) }
        : {}),
    });

    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'SenderIdentityName', { value: this.emailIdentity.emailIdentityName });
    new CfnOutput(this, 'ConfigurationSetName', { value: this.configurationSet.configurationSetName });
    if (settings.senderIdentity === 'domain') {
      // The three CNAME records to publish in the sender domain's DNS before SES will send.
      this.emailIdentity.dkimRecords.forEach((r, i) => {
        new CfnOutput(this, `DkimRecord${i + 1}`, { value: `${r.name} CNAME ${r.value}` });
      });
    }
  }
}
