import { parseTopic, TopicSyntaxError } from './parse.js';

/**
 * The checks every stored topic passes: the topic language's parser (SPEC §6). Returns the problem
 * and its 0-based character position, or undefined when the topic is fine.
 */
export function checkTopic(query: string): { message: string; position: number } | undefined {
  if (query.trim().length === 0) return { message: 'must not be empty', position: 0 };
  try {
    parseTopic(query);
    return undefined;
  } catch (error) {
    if (error instanceof TopicSyntaxError) return { message: error.message, position: error.position };
    throw error;
  }
}
