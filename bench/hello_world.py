"""The reference for the cold start: ask-sdk-core's hello world, as the official sample writes it, with
the official DynamoDB adapter and one persistent-attributes read per HelloWorldIntent.

Run only by the bench's cold section, in a fresh interpreter, as a Lambda container would load it.
Its words are the sample's own: this app is a yardstick, not part of the skill.
"""
import os

import boto3
from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_core.utils import is_intent_name
from ask_sdk_dynamodb.adapter import DynamoDbAdapter

ddb_resource = boto3.resource("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"],
                              endpoint_url=os.environ.get("HELLO_WORLD_DYNAMODB_ENDPOINT"))
ddb_adapter = DynamoDbAdapter(table_name=os.environ["HELLO_WORLD_DYNAMODB_TABLE"], create_table=False,
                              dynamodb_resource=ddb_resource)


class HelloWorldIntentHandler(AbstractRequestHandler):
    def can_handle(self, handler_input):
        return is_intent_name("HelloWorldIntent")(handler_input)

    def handle(self, handler_input):
        visits = handler_input.attributes_manager.persistent_attributes.get("visits", 0)
        speak_output = "Hello World!" if not visits else "Hello again!"
        return handler_input.response_builder.speak(speak_output).response


sb = CustomSkillBuilder(persistence_adapter=ddb_adapter)
sb.add_request_handler(HelloWorldIntentHandler())
handler = sb.lambda_handler()
